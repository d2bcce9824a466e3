/* The gdb-sim program-memory write port: 0x1FC80 unlock (0x1337F7D1), 0x1FC84 address, 0x1FC88 data
 * (written with the store's width, address += 4 after every write, ignored while locked). Writes code
 * into PM, executes it, reads it back with lpmi. docs/hardware/memory-map.md §3. */
#include "ft900_test.h"

#define PM_UNLOCK (*(volatile unsigned *)0x1FC80)
#define PM_ADDR (*(volatile unsigned *)0x1FC84)
#define PM_DATA (*(volatile unsigned *)0x1FC88)
#define PM_DATA_B (*(volatile unsigned char *)0x1FC88)
#define PM_DATA_S (*(volatile unsigned short *)0x1FC88)

#define CODE_AT 0x3F000u /* near the top of the 256 KiB PM, far beyond this program */

static unsigned pm_read(unsigned addr)
{
    unsigned r;
    __asm__ volatile("lpmi.l %0,%1,0" : "=r"(r) : "r"(addr) : "memory");
    return r;
}

typedef unsigned (*fn0)(void);
typedef unsigned (*fn2)(unsigned, unsigned);

int main(void)
{
    /* ldk.l $r0,42 ; return */
    PM_UNLOCK = 0x1337F7D1;
    PM_ADDR = CODE_AT;
    PM_DATA = 0x6400002A;
    PM_DATA = 0xA0000000;
    CHECK("pm readback word 0", pm_read(CODE_AT), 0x6400002A);
    CHECK("pm readback word 1", pm_read(CODE_AT + 4), 0xA0000000);
    fn0 f = (fn0)CODE_AT;
    CHECK("call written code", f(), 42);

    /* locked: writes are ignored */
    PM_UNLOCK = 0;
    PM_ADDR = CODE_AT;
    PM_DATA = 0x64000063; /* ldk.l $r0,99 */
    CHECK("locked write ignored", pm_read(CODE_AT), 0x6400002A);
    CHECK("call unchanged code", f(), 42);
    PM_UNLOCK = 0x1337F7D0; /* any other value locks */
    PM_ADDR = CODE_AT;
    PM_DATA = 0x64000063;
    CHECK("wrong key: still locked", pm_read(CODE_AT), 0x6400002A);

    /* unlock again: a two-argument function add.l $r0,$r0,$r1 ; mul.l $r0,$r0,3 ; return */
    PM_UNLOCK = 0x1337F7D1;
    PM_ADDR = CODE_AT + 0x100;
    PM_DATA = 0x44000010; /* add.l $r0,$r0,$r1 */
    PM_DATA = 0xF4004038; /* mul.l $r0,$r0,3 */
    PM_DATA = 0xA0000000;
    fn2 g = (fn2)(CODE_AT + 0x100);
    CHECK("call written 2-arg code", g(5, 7), 36);
    CHECK("pm address advanced by 4 per write", pm_read(CODE_AT + 0x108), 0xA0000000);

    /* narrow writes: the store width is used, the address still advances by 4 */
    PM_ADDR = CODE_AT + 0x200;
    PM_DATA = 0x11111111;
    PM_DATA = 0x22222222;
    PM_ADDR = CODE_AT + 0x200;
    PM_DATA_B = 0xAB;
    PM_DATA_S = 0xCDEF;
    CHECK("byte write into PM", pm_read(CODE_AT + 0x200), 0x111111AB);
    CHECK("half write into PM (next word)", pm_read(CODE_AT + 0x204), 0x2222CDEF);
    PM_ADDR = CODE_AT + 0x302; /* unaligned address */
    PM_DATA_S = 0x7777;
    SHOW("half write at +0x302: word +0x300", pm_read(CODE_AT + 0x300));
    PM_ADDR = CODE_AT + 0x401;
    PM_DATA_B = 0x5A;
    SHOW("byte write at +0x401: word +0x400", pm_read(CODE_AT + 0x400));

    /* overwrite the first function in place and call it again */
    PM_ADDR = CODE_AT;
    PM_DATA = 0x64000007; /* ldk.l $r0,7 */
    CHECK("call rewritten code", f(), 7);
    PM_UNLOCK = 0;
    return ft_done("pmwrite");
}
