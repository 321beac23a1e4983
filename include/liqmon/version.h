#ifndef LIQMON_VERSION_H
#define LIQMON_VERSION_H
#define LIQMON_VERSION "0.1.0"
#endif
