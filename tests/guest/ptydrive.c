/*
 * ptydrive: drive a program on a pseudo-terminal like a person at a keyboard.
 *
 * Runs inside the throw-away QEMU test guest (as /bin/ptydrive), where busybox
 * has neither `script` nor `expect`.  run-guest-tests.sh builds it on the host
 * with `cc -static -O2` (glibc's forkpty).
 *
 *   ptydrive [options] STEP... -- COMMAND [ARGS...]
 *
 * COMMAND runs on a new PTY (its controlling terminal, stdin/stdout/stderr)
 * whose window size is set before it starts.  The STEPs run in order:
 *
 *   send:TEXT      type TEXT (escapes: \r \n \t \e \\ \xHH; ^X is not special)
 *   type:TEXT      like send, but one byte at a time, 20 ms apart
 *   expect:TEXT    wait until TEXT appears in the output after the previous
 *                  match (same escapes); fails after the step timeout
 *   resize:RxC     set the window size to R rows, C columns (the program
 *                  gets SIGWINCH)
 *   sleep:MS       wait MS milliseconds, reading output meanwhile
 *   close          close the PTY master (the program gets a hang-up)
 *
 * After the steps it waits for COMMAND to exit (and reads its output to EOF).
 *
 * Options:
 *   -s RxC     initial window size (default 24x80)
 *   -t SECS    timeout of each expect step and of the final wait (default 10)
 *   -x STATUS  the exit status COMMAND must end with: a number, 128+N for
 *              signal N, or "any" (default 0)
 *   -o FILE    write everything COMMAND printed (raw bytes) to FILE
 *   -v         print each step and the exit status to stderr
 *
 * Exit status: 0 = every step succeeded and COMMAND exited with the expected
 * status; 1 = a step failed or the status differs (stderr says which and shows
 * the tail of the output, escaped); 2 = usage or set-up error.
 *
 * Guard: like isa-debug-exit it refuses to run (exit 2) unless
 * /.hvterm-guest-marker exists, so it only ever runs inside the test guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int master_fd = -1;
static pid_t child = -1;
static int child_done = 0, child_status = 0;
static int out_eof = 0;
static char *out;
static size_t out_len, out_cap, match_from;
static int verbose;
static const char *out_file;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* decode C-style escapes in place; returns the decoded length */
static size_t unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; ++r) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        switch (*++r) {
        case 'r': *w++ = '\r'; break;
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'e': *w++ = 0x1b; break;
        case '\\': *w++ = '\\'; break;
        case 'x': {
            int v = 0, n = 0;
            while (n < 2 && r[1] && strchr("0123456789abcdefABCDEF", r[1])) {
                char c = *++r;
                v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                ++n;
            }
            *w++ = (char)v;
            break;
        }
        default: *w++ = '\\'; *w++ = *r; break;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static void print_escaped(FILE *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') fputs("\\n\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c < 0x20 || c >= 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('\n', f);
}

static void save_output(void)
{
    if (!out_file) return;
    FILE *f = fopen(out_file, "wb");
    if (!f) return;
    fwrite(out, 1, out_len, f);
    fclose(f);
}

static void reap(int block)
{
    if (child_done || child < 0) return;
    int st;
    pid_t r = waitpid(child, &st, block ? 0 : WNOHANG);
    if (r == child) {
        child_done = 1;
        child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
}

static void kill_child(void)
{
    if (child > 0 && !child_done) {
        kill(child, SIGKILL);
        reap(1);
    }
}

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ptydrive: FAIL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    kill_child();
    save_output();
    size_t tail = out_len > 1500 ? out_len - 1500 : 0;
    fprintf(stderr, "ptydrive: output so far (%zu bytes%s, escaped; previous match ended at %zu):\n", out_len,
            tail ? ", last 1500 shown" : "", match_from);
    print_escaped(stderr, out + tail, out_len - tail);
    exit(1);
}

/* read what is available (waiting up to timeout_ms for the first byte) */
static void pump(int timeout_ms)
{
    if (out_eof || master_fd < 0) {
        if (timeout_ms > 0) poll(NULL, 0, timeout_ms < 50 ? timeout_ms : 50);
        reap(0);
        return;
    }
    struct pollfd p = {.fd = master_fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) fail("poll: %s", strerror(errno));
    for (;;) {
        if (out_cap - out_len < 4096) {
            out_cap = out_cap ? out_cap * 2 : 65536;
            out = realloc(out, out_cap);
            if (!out) fail("out of memory");
        }
        ssize_t n = read(master_fd, out + out_len, out_cap - out_len);
        if (n > 0) {
            out_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        out_eof = 1; /* EIO: every slave fd is closed */
        break;
    }
    reap(0);
}

static void write_all(const char *p, size_t n)
{
    long long deadline = now_ms() + 10000;
    while (n) {
        ssize_t w = write(master_fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (now_ms() > deadline) fail("typing blocked for 10 s (nobody reads the terminal)");
            pump(10);
        } else {
            fail("write to the PTY: %s", strerror(errno));
        }
    }
}

static void parse_size(const char *s, struct winsize *ws)
{
    unsigned r, c;
    char x;
    if (sscanf(s, "%u%c%u", &r, &x, &c) != 3 || x != 'x' || !r || !c || r > 9999 || c > 9999) {
        fprintf(stderr, "ptydrive: bad size '%s' (want ROWSxCOLS)\n", s);
        exit(2);
    }
    memset(ws, 0, sizeof *ws);
    ws->ws_row = (unsigned short)r;
    ws->ws_col = (unsigned short)c;
}

static void usage(void)
{
    fputs("usage: ptydrive [-s RxC] [-t SECS] [-x STATUS|any] [-o FILE] [-v] STEP... -- COMMAND [ARGS...]\n"
          "steps: send:TEXT type:TEXT expect:TEXT resize:RxC sleep:MS close\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    struct winsize ws;
    int timeout_s = 10, want_any = 0, want_status = 0, opt;

    if (access("/.hvterm-guest-marker", F_OK) != 0) {
        fputs("ptydrive: refusing to run outside the hvterm test guest (/.hvterm-guest-marker is missing)\n",
              stderr);
        return 2;
    }
    parse_size("24x80", &ws);
    while ((opt = getopt(argc, argv, "+s:t:x:o:v")) != -1) {
        switch (opt) {
        case 's': parse_size(optarg, &ws); break;
        case 't': timeout_s = atoi(optarg); break;
        case 'x':
            if (!strcmp(optarg, "any")) want_any = 1;
            else want_status = atoi(optarg);
            break;
        case 'o': out_file = optarg; break;
        case 'v': verbose = 1; break;
        default: usage();
        }
    }
    if (timeout_s <= 0) usage();
    int first_step = optind, dashdash = -1;
    /* getopt has eaten a "--" that directly follows the options: no steps */
    if (optind > 1 && !strcmp(argv[optind - 1], "--") &&
        !(optind > 2 && argv[optind - 2][0] == '-' && strchr("stxo", argv[optind - 2][1]) && !argv[optind - 2][2]))
        dashdash = first_step = optind - 1;
    for (int i = optind; dashdash < 0 && i < argc; ++i)
        if (!strcmp(argv[i], "--")) {
            dashdash = i;
            break;
        }
    if (dashdash < 0 || dashdash + 1 >= argc) usage();
    for (int i = first_step; i < dashdash; ++i) {
        const char *s = argv[i];
        if (strncmp(s, "send:", 5) && strncmp(s, "type:", 5) && strncmp(s, "expect:", 7) &&
            strncmp(s, "resize:", 7) && strncmp(s, "sleep:", 6) && strcmp(s, "close")) {
            fprintf(stderr, "ptydrive: unknown step '%s'\n", s);
            usage();
        }
    }

    signal(SIGPIPE, SIG_IGN);
    child = forkpty(&master_fd, NULL, NULL, &ws);
    if (child < 0) {
        fprintf(stderr, "ptydrive: forkpty: %s\n", strerror(errno));
        return 2;
    }
    if (child == 0) {
        execvp(argv[dashdash + 1], argv + dashdash + 1);
        fprintf(stderr, "ptydrive: cannot run %s: %s\r\n", argv[dashdash + 1], strerror(errno));
        _exit(127);
    }
    fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
    fcntl(master_fd, F_SETFD, FD_CLOEXEC);

    for (int i = first_step; i < dashdash; ++i) {
        char *step = argv[i];
        if (verbose) fprintf(stderr, "ptydrive: step %s\n", step);
        if (!strncmp(step, "send:", 5) || !strncmp(step, "type:", 5)) {
            if (master_fd < 0) fail("step '%s' after close", step);
            char *text = step + 5;
            size_t n = unescape(text);
            if (step[0] == 's') {
                write_all(text, n);
            } else {
                for (size_t k = 0; k < n; ++k) {
                    write_all(text + k, 1);
                    pump(20);
                }
            }
            pump(0);
        } else if (!strncmp(step, "expect:", 7)) {
            char *text = step + 7;
            size_t n = unescape(text);
            long long deadline = now_ms() + timeout_s * 1000LL;
            for (;;) {
                char *hit = memmem(out + match_from, out_len - match_from, text, n);
                if (hit) {
                    match_from = (size_t)(hit - out) + n;
                    break;
                }
                long long left = deadline - now_ms();
                if (left <= 0) fail("timed out after %d s waiting for \"%s\" (step %d)", timeout_s, step + 7, i - first_step + 1);
                if (out_eof && child_done) fail("the program ended (status %d) before \"%s\" appeared (step %d)", child_status, step + 7, i - first_step + 1);
                pump(left > 100 ? 100 : (int)left);
            }
        } else if (!strncmp(step, "resize:", 7)) {
            if (master_fd < 0) fail("step '%s' after close", step);
            parse_size(step + 7, &ws);
            if (ioctl(master_fd, TIOCSWINSZ, &ws) != 0) fail("TIOCSWINSZ: %s", strerror(errno));
            pump(0);
        } else if (!strncmp(step, "sleep:", 6)) {
            long long deadline = now_ms() + atoi(step + 6);
            for (long long left; (left = deadline - now_ms()) > 0;) pump(left > 100 ? 100 : (int)left);
        } else if (!strcmp(step, "close")) {
            pump(0);
            if (master_fd >= 0) close(master_fd);
            master_fd = -1;
            out_eof = 1;
        }
    }

    long long deadline = now_ms() + timeout_s * 1000LL;
    while (!(child_done && out_eof)) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            if (!child_done) fail("the program did not exit within %d s after the last step", timeout_s);
            break; /* exited, but something else holds the terminal open: fine */
        }
        pump(left > 100 ? 100 : (int)left);
    }
    save_output();
    if (verbose) fprintf(stderr, "ptydrive: the program exited with status %d\n", child_status);
    if (!want_any && child_status != want_status)
        fail("the program exited with status %d, expected %d", child_status, want_status);
    return 0;
}
