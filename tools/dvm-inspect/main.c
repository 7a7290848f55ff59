// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-inspect: mount a read-only tree of every pool's volumes, their layers and what they
 * changed. Options, the checks before mounting, and the library context.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "inspect.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: dvm-inspect [--state-dir DIR] [OPTION...] MOUNTPOINT\n"
                   "Mount a read-only view of the dvm-vol pools: /<pool>/<vm>/<volume>/{info,image,layers/,delta,changed}.\n\n"
                   "  -s, --state-dir DIR   state directory of the pools (default $DVM_STATE_DIR, else %s)\n"
                   "  -f, --foreground      stay in the foreground (default: return once mounted)\n"
                   "      --allow-other     let every user read the volumes (FUSE allow_other)\n"
                   "      --allow-non-root  run without root (reading volumes needs it; for testing)\n"
                   "  -d, --debug           trace every FUSE request (implies --foreground)\n"
                   "  -v, --verbose         log more of the library's work\n"
                   "  -h, --help            this text\n\n"
                   "Unmount with 'umount MOUNTPOINT' or 'fusermount3 -u MOUNTPOINT'. dvm-inspect(8) has the exit codes.\n",
                DVM_DEFAULT_STATE_DIR);
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "dvm-inspect: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'dvm-inspect --help'.\n");
        return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
        enum { OPT_ALLOW_OTHER = 256, OPT_ALLOW_NON_ROOT };
        static const struct option longopts[] = {
                { "state-dir", required_argument, NULL, 's' },
                { "foreground", no_argument, NULL, 'f' },
                { "allow-other", no_argument, NULL, OPT_ALLOW_OTHER },
                { "allow-non-root", no_argument, NULL, OPT_ALLOW_NON_ROOT },
                { "debug", no_argument, NULL, 'd' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        opterr = 0; /* one line of our own instead of getopt's */
        while ((c = getopt_long(argc, argv, "s:fdvh", longopts, NULL)) != -1) {
                switch (c) {
                case 's': opt->state_dir = optarg; break;
                case 'f': opt->foreground = true; break;
                case OPT_ALLOW_OTHER: opt->allow_other = true; break;
                case OPT_ALLOW_NON_ROOT: opt->allow_non_root = true; break;
                case 'd': opt->debug = opt->foreground = true; break;
                case 'v': opt->verbose++; break;
                case 'h': usage(stdout); return -1;
                default: return usage_error("invalid option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return usage_error("missing MOUNTPOINT");
        if (optind + 1 < argc)
                return usage_error("unexpected argument \"%s\"", argv[optind + 1]);
        opt->mountpoint = argv[optind];
        return 0;
}

/* Refuse before anything is mounted: a mountpoint that is no directory, or no root. */
static int check(const struct options *opt)
{
        struct stat st;

        if (geteuid() != 0 && !opt->allow_non_root) {
                fprintf(stderr, "dvm-inspect: must run as root (it reads device-mapper devices); "
                                "--allow-non-root runs it anyway\n");
                return EXIT_UNSUPPORTED;
        }
        if (stat(opt->mountpoint, &st) < 0) {
                fprintf(stderr, "dvm-inspect: mountpoint %s: %s\n", opt->mountpoint, strerror(errno));
                return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL;
        }
        if (!S_ISDIR(st.st_mode)) {
                fprintf(stderr, "dvm-inspect: mountpoint %s is not a directory\n", opt->mountpoint);
                return EXIT_USAGE;
        }
        return 0;
}

static void log_line(void *userdata _unused_, enum dvm_log_level level, const char *msg)
{
        /* failed requests are logged once by tree_fail(), from the last error */
        if (level > DVM_LOG_ERR)
                syslog(level == DVM_LOG_WARNING ? LOG_WARNING : LOG_INFO, "%s", msg);
}

int main(int argc, char **argv)
{
        struct options opt = {};
        struct inspect in = { .opt = &opt, .lock = PTHREAD_MUTEX_INITIALIZER };
        _cleanup_free_ char *real = NULL;
        int r = parse_args(argc, argv, &opt);

        if (r)
                return r < 0 ? EXIT_OK : r;
        r = check(&opt);
        if (r)
                return r;
        /* canonical, as /proc/self/mountinfo will name it (and the daemon leaves the cwd) */
        real = realpath(opt.mountpoint, NULL);
        if (!real) {
                fprintf(stderr, "dvm-inspect: mountpoint %s: %s\n", opt.mountpoint, strerror(errno));
                return EXIT_FAIL;
        }
        opt.mountpoint = real;
        if (dvm_ctx_new(opt.state_dir, &in.ctx) < 0) {
                fprintf(stderr, "dvm-inspect: invalid state directory \"%s\": it must be an absolute path\n",
                        opt.state_dir ? opt.state_dir : getenv("DVM_STATE_DIR"));
                return EXIT_USAGE;
        }
        openlog("dvm-inspect", LOG_PID | (opt.foreground ? LOG_PERROR : 0), LOG_DAEMON);
        dvm_ctx_set_log(in.ctx, opt.verbose > 1 ? DVM_LOG_DEBUG : opt.verbose ? DVM_LOG_INFO : DVM_LOG_WARNING,
                        log_line, NULL);
        in.uid = geteuid();
        in.gid = getegid();
        clock_gettime(CLOCK_REALTIME, &in.mounted);
        r = fs_run(&in);
        dvm_ctx_free(in.ctx);
        closelog();
        return r;
}
