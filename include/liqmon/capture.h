/*
 * capture.h - capture files (../shared/docs/capture-format.md, version 1):
 * what the venues sent, byte for byte, one JSON object per line.
 *
 * Writing (recording) happens off the event loop: capture_writer_submit
 * copies the frame into a queue and returns; a writer thread formats and
 * writes batches, one file per hour (<dir>/capture-YYYYMMDD-HH.jsonl).
 * A full queue drops the frame and counts it, never blocks the loop.
 *
 * Reading (replay) streams a file (plain or .gz) line by line; a bad line
 * is counted and reported with its line number, and reading goes on.  A
 * damaged file is an error, not a short capture: every frame before the
 * damage is read, then capture_next fails with CAPTURE_EDATA.
 */
#ifndef LIQMON_CAPTURE_H
#define LIQMON_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/err.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"

/* One frame as read back.  Pointers are borrowed until the next call. */
struct capture_frame {
    int64_t ts;               /* ns since the epoch */
    enum venue_id venue;
    enum frame_src src;
    const char *conn;         /* NULL when absent */
    const char *url;          /* NULL when absent */
    const char *data;         /* the frame text (decoded), NUL-terminated */
    size_t len;
    int binary;               /* came from frame_b64 */
    size_t line;              /* 1-based line number */
};

typedef struct capture_reader capture_reader_t;

/*
 * Why reading a capture failed.  capture_next returns these (negative);
 * capture_open returns NULL and capture_last_error() says which.  The
 * message (err) names the file and, for damage, how many lines were read
 * before it.  Exit codes (sysexits.h), for the CLIs:
 *
 *   CAPTURE_EOPEN   66 EX_NOINPUT  missing, not readable, a directory
 *   CAPTURE_EDATA   65 EX_DATAERR  the content is damaged:
 *                    - "<file>: truncated gzip stream: the file ends
 *                      inside it (after line N)"
 *                    - "<file>: corrupt gzip data at byte B of the file
 *                      (zlib: <zlib's message>) (after line N)"
 *                    - "<file>: garbage after the end of the gzip stream,
 *                      at byte B of the file (after line N)"
 *                    - "<file>:<line>: line longer than 268435456 bytes"
 *   CAPTURE_EIO     74 EX_IOERR    read(2) failed after the open
 *   CAPTURE_ENOMEM  71 EX_OSERR    out of memory
 *
 * A plain file cut mid-line is not an error: its last line (no '\n') is a
 * bad line like any other ("<file>:<line>: no newline at the end of the
 * file: the last line is cut off") and capture_next then returns 0.
 * Concatenated gzip members (cat a.gz b.gz) are one valid capture.
 */
enum capture_error {
    CAPTURE_OK = 0,
    CAPTURE_EOPEN = -1,
    CAPTURE_EDATA = -2,
    CAPTURE_EIO = -3,
    CAPTURE_ENOMEM = -4,
};
const char *capture_error_name(enum capture_error e);   /* "damaged data" */

/* NULL on failure (err set; capture_last_error() is CAPTURE_EOPEN or
 * CAPTURE_ENOMEM). */
capture_reader_t *capture_open(const char *path, lq_err_t *err);
void capture_close(capture_reader_t *r);       /* NULL is fine */
/* Next good frame: 1; end of file: 0; an error: CAPTURE_EDATA, CAPTURE_EIO
 * or CAPTURE_ENOMEM (err set), and the same again on every later call.
 * Bad lines are skipped; each is passed to on_bad (if set) with a message
 * "<path>:<line>: <what>". */
int capture_next(capture_reader_t *r, struct capture_frame *f,
                 void (*on_bad)(const char *msg, void *arg), void *arg,
                 lq_err_t *err);
/* The reader's error (CAPTURE_OK while there is none). */
enum capture_error capture_reader_error(const capture_reader_t *r);
/* The kind of the last failure of capture_open or capture_next on this
 * thread (errno-style: set by failures, cleared by a successful
 * capture_open).  For callers that only see a -1 passed up (replay_run,
 * replay_discover). */
enum capture_error capture_last_error(void);
size_t capture_bad_lines(const capture_reader_t *r);
/* Lines read so far (good, bad and blank). */
size_t capture_lines(const capture_reader_t *r);
/* Bytes of the file read so far and its size (for progress; 0 if
 * unknown). */
uint64_t capture_pos(const capture_reader_t *r);
/* on: read with the portable code only, not the CPU-specific fast paths
 * (SSSE3), which must give the same frames: for tests and benchmarks. */
void capture_set_portable(capture_reader_t *r, int on);
uint64_t capture_size(const capture_reader_t *r);

/* Append one frame to buf as a capture line (with the '\n').  Returns the
 * bytes written, or 0 if it does not fit in size.  Exposed for tests and
 * for liqmon-venue, which writes captures too. */
size_t capture_format_line(char *buf, size_t size, int64_t ts,
                           enum venue_id venue, enum frame_src src,
                           const char *conn, const char *url,
                           const char *data, size_t len);

typedef struct capture_writer capture_writer_t;

struct capture_writer_stats {
    uint64_t frames;          /* written */
    uint64_t bytes;
    uint64_t dropped;         /* queue full */
    uint64_t files;           /* files opened */
    uint64_t write_errors;
};

/* Start the writer thread for directory dir (created if missing).
 * queue_bytes bounds the memory held by frames waiting to be written. */
capture_writer_t *capture_writer_start(const char *dir, size_t queue_bytes,
                                       lq_err_t *err);
/* Queue a frame (copied).  Never blocks on disk.  0, or -1 when dropped. */
int capture_writer_submit(capture_writer_t *w, int64_t ts, enum venue_id venue,
                          enum frame_src src, const char *conn,
                          const char *url, const char *data, size_t len);
/* Write everything queued, stop the thread, close the file, free. */
void capture_writer_stop(capture_writer_t *w);
void capture_writer_get_stats(capture_writer_t *w,
                              struct capture_writer_stats *st);

#endif
