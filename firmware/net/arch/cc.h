/*
 * arch/cc.h - lwIP's compiler and platform definitions for the FT900 (FT32, ft32-elf-gcc,
 * newlib): little-endian, gcc packed structures, printf-style diagnostics on UART0 through the
 * HAL's formatter, assertions that report and stop the firmware.
 */
#ifndef FT900_LWIP_ARCH_CC_H
#define FT900_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/* FT32 is little-endian (byte lanes of a word: LSB first). */
#define BYTE_ORDER LITTLE_ENDIAN

/* newlib's <ctype.h> would bring its locale tables into RAM (.rodata lives in RAM): use lwIP's
   own character classes. */
#define LWIP_NO_CTYPE_H 1

/* gcc: packed protocol structures, aligned memory declarations without the slack bytes. */
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_FIELD(x) x
#define LWIP_DECLARE_MEMORY_ALIGNED(variable_name, size) \
    uint8_t variable_name[LWIP_MEM_ALIGN_SIZE(size)] __attribute__((aligned(MEM_ALIGNMENT)))

/* Format strings for the HAL formatter (ft900_format.h: 'l' and 'h' are accepted and ignored;
   uint32_t is unsigned long on FT32, size_t unsigned int). */
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "lu"
#define S32_F "ld"
#define X32_F "lx"
#define SZT_F "u"

/* Diagnostics (LWIP_DEBUGF, only with LWIP_DEBUG) go to UART0. An assertion prints its message
   and where, then stops the firmware with _exit(NET_ASSERT_EXIT_STATUS). Assertions are off
   unless NET_LWIP_ASSERTS is defined: their messages and file names would be .rodata, which
   lives in RAM. */
void net_platform_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void net_platform_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define NET_ASSERT_EXIT_STATUS 0xA55E
#define LWIP_PLATFORM_DIAG(x) do { net_platform_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) net_platform_assert((x), __FILE__, __LINE__)
#ifndef NET_LWIP_ASSERTS
#define LWIP_NOASSERT
#endif

#endif /* FT900_LWIP_ARCH_CC_H */
