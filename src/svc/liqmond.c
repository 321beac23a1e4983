/*
 * liqmond - the liquidation-risk monitoring daemon.
 *
 * This build holds the risk engine only (positions, books, the cascade
 * simulator); the venue feeds, the event loop and the service around them
 * come next (issue 3 onward).  Until then liqmond only answers --help and
 * --version, and says plainly that it has nothing to run, rather than
 * pretending to monitor anything.
 */
#include <stdio.h>
#include <string.h>

#include "liqmon/version.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("liqmond %s\n", LIQMON_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: liqmond [--help] [--version]\n"
               "The venue feeds are not built yet; use 'liqmonctl sim' to run\n"
               "the cascade simulator on a scenario.\n");
        return 0;
    }
    fprintf(stderr, "liqmond: no venue feeds in this build yet; "
            "see 'liqmonctl sim' (README.md)\n");
    return 64;
}
