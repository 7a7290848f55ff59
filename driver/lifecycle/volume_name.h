/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing the device-mapper names of volumes (dvm_volume_dm_name_parse() in dvm.h); the
 * names themselves are built by volume_dm_name().
 */
#ifndef DVM_VOLUME_NAME_H
#define DVM_VOLUME_NAME_H

#include "dvm.h"

#endif
