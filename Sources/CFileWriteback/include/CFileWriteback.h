#ifndef LSG_C_FILE_WRITEBACK_H
#define LSG_C_FILE_WRITEBACK_H

#include <stdint.h>

/// Starts writing the dirty pages of bytes [offset, offset + count) of `fd` to disk without
/// waiting for them (Linux `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which Glibc's Swift
/// module does not export). Returns 0, or -1 with errno set; does nothing on other systems.
int lsg_start_writeback(int fd, int64_t offset, int64_t count);

#endif
