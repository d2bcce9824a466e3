/*
 * The newlib system calls that the FT9xx toolchain's `libstub` supplies and the SDK does not.
 * newlib's printf, puts, malloc, ... end in these. What each does is what it does on a board:
 *
 * - _write: stdout and stderr go out of UART0, byte by byte, with the SDK's own blocking
 *   `uart_write` (wait for the transmit holding register to empty, then write it). The SDK's
 *   examples all open UART0 with `uart_open(UART0, ...)` before their first printf and print
 *   "\r\n" themselves, so bytes are sent as they are (no newline translation). Other
 *   descriptors fail with EBADF.
 * - _read: stdin reads UART0, blocking for the first byte (the SDK's `uart_read`), then takes
 *   what is already waiting, up to the buffer's size.
 * - _sbrk: the heap grows from `_end` (the end of .bss in the SDK's linker scripts) towards the
 *   stack, which starts at the top of RAM; a request that would come within STACK_MARGIN bytes
 *   of the current stack pointer fails with ENOMEM.
 * - _isatty: stdin/stdout/stderr are a terminal (newlib then buffers stdout by line).
 * - _close, _fstat, _lseek, _kill, _getpid: there is no file system and no process: they fail
 *   or answer as a lone process would. `_exit` is in the SDK's crt0.S.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ft900.h"

#undef errno
extern int errno;

/* Bytes of stack the heap must leave below the stack pointer. */
#define STACK_MARGIN 1024

int _write(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i;

    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    for (i = 0; i < len; i++) {
        uart_write(UART0, p[i]);
    }
    return (int)len;
}

int _read(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t n = 0;

    if (fd != 0) {
        errno = EBADF;
        return -1;
    }
    if (len == 0) {
        return 0;
    }
    uart_read(UART0, &p[n++]);
    while (n < len && uart_rx_has_data(UART0)) {
        uart_read(UART0, &p[n++]);
    }
    return (int)n;
}

extern char _end[];

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = _end;
    char *sp = (char *)__builtin_frame_address(0);
    char *old = brk;

    if (incr > 0 && (size_t)incr > (size_t)(sp - STACK_MARGIN - brk)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    if (incr < 0 && (size_t)(-incr) > (size_t)(brk - _end)) {
        errno = EINVAL;
        return (void *)-1;
    }
    brk += incr;
    return old;
}

int _isatty(int fd)
{
    if (fd >= 0 && fd <= 2) {
        return 1;
    }
    errno = EBADF;
    return 0;
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    if (fd >= 0 && fd <= 2) {
        st->st_mode = S_IFCHR;
        return 0;
    }
    errno = EBADF;
    return -1;
}

off_t _lseek(int fd, off_t offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return (off_t)-1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}
