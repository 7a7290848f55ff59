// SPDX-License-Identifier: GPL-2.0-or-later
/* NULL-terminated string arrays handed to callers. */
#include <stdlib.h>

#include "dvm.h"

char **dvm_strv_free(char **strv)
{
        if (strv) {
                for (char **s = strv; *s; s++)
                        free(*s);
                free(strv);
        }
        return NULL;
}
