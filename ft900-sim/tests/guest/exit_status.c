/* The exit status is r0 at the store to 0x1FFFC, truncated to 8 bits by the host: exit(0x1AB) -> 171.
 * Output written before exit() must be flushed by newlib's exit path.
 * ft900-test: status=171 */
#include <stdio.h>
#include <stdlib.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(void)
{
    atexit(bye);
    printf("exiting with 0x1ab");
    exit(0x1ab);
}
