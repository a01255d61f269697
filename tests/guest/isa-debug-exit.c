/*
 * isa-debug-exit CODE
 *
 * Runs inside the throw-away QEMU test guest (as /bin/isa-debug-exit) and ends
 * the VM by writing CODE (0..255) to I/O port 0xf4, where run-guest-tests.sh
 * puts QEMU's isa-debug-exit device.  QEMU then exits with status (CODE<<1)|1.
 *
 * Busybox has no tool for port I/O and Debian's kernels have no /dev/port
 * (CONFIG_DEVPORT is off), hence this helper.  It is freestanding: no libc, no
 * dynamic loader, built by run-guest-tests.sh with
 *   cc -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie
 * x86-64 Linux only.  If the port write does not end the VM it exits 1, so
 * the caller can fall back to `poweroff -f`.
 *
 * Guard: it does nothing (exit 2) unless /.hvterm-guest-marker exists, a file
 * that exists only inside the test initramfs, so running it by mistake on a
 * real machine never touches that machine's I/O ports.
 */

#define SYS_access 21
#define SYS_exit 60
#define SYS_ioperm 173
#define DEBUG_EXIT_PORT 0xf4

static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

__attribute__((used, noreturn)) void isa_debug_exit_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    unsigned value = 0;

    if (sys3(SYS_access, (long)"/.hvterm-guest-marker", 0 /* F_OK */, 0) != 0)
        for (;;)
            sys3(SYS_exit, 2, 0, 0);

    if (argc > 1)
        for (const char *p = argv[1]; *p >= '0' && *p <= '9'; ++p)
            value = value * 10u + (unsigned)(*p - '0');

    if (sys3(SYS_ioperm, DEBUG_EXIT_PORT, 1, 1) == 0) {
        unsigned char byte = (unsigned char)value;
        __asm__ volatile("outb %0, %1" : : "a"(byte), "Nd"((unsigned short)DEBUG_EXIT_PORT));
    }
    /* Still alive: not under QEMU's isa-debug-exit, or no permission. */
    for (;;)
        sys3(SYS_exit, 1, 0, 0);
}

/* Entry point: hand the initial stack pointer (argc, argv...) to C. */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call isa_debug_exit_main\n"
        "    hlt\n");
