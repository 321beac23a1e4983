#ifndef LIQMON_VERSION_H
#define LIQMON_VERSION_H
#define LIQMON_VERSION "0.1.0"
/* Where `make install` puts conf/ (instruments, examples); the Makefile
 * passes the real PREFIX. */
#ifndef LIQMON_DATADIR
#define LIQMON_DATADIR "/usr/local/share/liqmon"
#endif
#endif
