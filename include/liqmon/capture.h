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
 * is counted and reported with its line number, and reading goes on.
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

capture_reader_t *capture_open(const char *path, lq_err_t *err);
void capture_close(capture_reader_t *r);       /* NULL is fine */
/* Next good frame: 1; end of file: 0; read error: -1 (err set).  Bad
 * lines are skipped; each is passed to on_bad (if set) with a message
 * "<path>:<line>: <what>". */
int capture_next(capture_reader_t *r, struct capture_frame *f,
                 void (*on_bad)(const char *msg, void *arg), void *arg,
                 lq_err_t *err);
size_t capture_bad_lines(const capture_reader_t *r);
/* Bytes read so far and the file's size (for progress; 0 if unknown). */
uint64_t capture_pos(const capture_reader_t *r);
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
