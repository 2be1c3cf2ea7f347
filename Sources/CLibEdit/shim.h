#ifndef ZKSH_CLIBEDIT_SHIM_H
#define ZKSH_CLIBEDIT_SHIM_H

/*
 * Swift-callable wrappers around libedit (histedit.h).
 *
 * libedit's el_set/el_get/history entry points are C-variadic, which Swift
 * cannot call, so every combination LineEditor needs gets a small fixed-arity
 * static inline wrapper here.  The signal relay at the bottom exists because a
 * signal handler cannot carry context: it is the only process-wide state.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <histedit.h>

/* ==== Editor callbacks ==== */

/* An editor function registered with EL_ADDFN; returns a CC_* code. */
typedef unsigned char (*zksh_el_func_t)(EditLine *, int);
/* A prompt function for EL_PROMPT_ESC; the string must stay valid until the next call. */
typedef char *(*zksh_el_prompt_func_t)(EditLine *);
/* A character reader for EL_GETCFN: 1 = got a character, 0 = end of file, -1 = error. */
typedef int (*zksh_el_read_func_t)(EditLine *, wchar_t *);

/* ==== el_set / el_get ==== */

static inline int zksh_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *zksh_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) {
        return NULL;
    }
    return data;
}

/* EL_EDITOR, EL_TERMINAL: a single string argument. */
static inline int zksh_el_set_string(EditLine *el, int op, const char *value) {
    return el_set(el, op, value);
}

/* EL_SIGNAL, EL_EDITMODE, EL_PREP_TERM, EL_UNBUFFERED: a single int argument. */
static inline int zksh_el_set_int(EditLine *el, int op, int value) {
    return el_set(el, op, value);
}

/* EL_REFRESH: clear libedit's idea of the screen and redraw prompt and line
 * from the current cursor position, which must be at column 0. */
static inline int zksh_el_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

/* EL_PROMPT_ESC: prompt function plus the character that brackets
 * invisible (escape) sequences inside the prompt. */
static inline int zksh_el_set_prompt_esc(EditLine *el, zksh_el_prompt_func_t fn, char ignore) {
    return el_set(el, EL_PROMPT_ESC, fn, (int)ignore);
}

static inline int zksh_el_set_getcfn(EditLine *el, zksh_el_read_func_t fn) {
    return el_set(el, EL_GETCFN, fn);
}

/* EL_HIST with the narrow history() function. */
static inline int zksh_el_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int zksh_el_addfn(EditLine *el, const char *name, const char *help, zksh_el_func_t fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

/* EL_BIND key command: `key` uses editrc(5) notation ("^I", "\\236"). */
static inline int zksh_el_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}

/* The terminal width libedit currently uses (termcap "co"), or -1. */
static inline int zksh_el_columns(EditLine *el) {
    int columns = -1;
    if (el_get(el, EL_GETTC, "co", &columns, (void *)NULL) != 0) {
        return -1;
    }
    return columns;
}

/* ==== history() ==== */

/* H_SETSIZE, H_SETUNIQUE. */
static inline int zksh_history_int(History *h, HistEvent *ev, int op, int value) {
    return history(h, ev, op, value);
}

/* H_ENTER, H_LOAD. */
static inline int zksh_history_string(History *h, HistEvent *ev, int op, const char *value) {
    return history(h, ev, op, value);
}

/* H_FIRST, H_LAST, H_PREV, H_NEXT, H_GETSIZE, H_CLEAR. */
static inline int zksh_history_void(History *h, HistEvent *ev, int op) {
    return history(h, ev, op);
}

/* H_SAVE_FP. */
static inline int zksh_history_save_fp(History *h, HistEvent *ev, FILE *fp) {
    return history(h, ev, H_SAVE_FP, fp);
}

/* ==== Characters ==== */

/* POSIX wcwidth(3); glibc's <wchar.h> only declares it under _XOPEN_SOURCE. */
int wcwidth(wchar_t);

/* Terminal cells taken by `c`: 0, 1 or 2, or -1 if not printable. */
static inline int zksh_wcwidth(wchar_t c) { return wcwidth(c); }

/* ==== stdio ==== */

/* The C standard streams; Swift 6 rejects direct use of these mutable globals. */
static inline FILE *zksh_stdin(void) { return stdin; }
static inline FILE *zksh_stdout(void) { return stdout; }
static inline FILE *zksh_stderr(void) { return stderr; }

/* ==== Signal relay ====
 *
 * While LineEditor.readLine runs, SIGINT, SIGWINCH, SIGTSTP, SIGCONT and the
 * terminating signals are caught by zksh_signal_relay_handler, which writes
 * the signal number as one byte to the editor's wake-up pipe (write(2) is
 * async-signal-safe).  The editor's character reader polls that pipe next to
 * the terminal, so a signal is noticed no matter which thread it hit.
 *
 * The write end lives in a function-local static.  Because these functions
 * are static inline, every Swift source file that calls them gets its own
 * copy: call them from ONE Swift file only (LineEditor/SignalRelay.swift).
 */

static inline volatile sig_atomic_t *zksh_signal_relay_fd(void) {
    static volatile sig_atomic_t fd = -1;
    return &fd;
}

static inline void zksh_signal_relay_handler(int signo) {
    int saved = errno;
    int fd = (int)*zksh_signal_relay_fd();
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signo;
        (void)write(fd, &byte, 1);
    }
    errno = saved;
}

/* Points the relay at `fd` (the pipe's non-blocking write end), or at nothing with -1. */
static inline void zksh_signal_relay_set_fd(int fd) {
    *zksh_signal_relay_fd() = fd;
}

/* Installs the relay for `signo` without SA_RESTART, saving the old action in *previous.
 * Returns 1 if installed, 0 if left alone because the old action was SIG_IGN and
 * `keep_ignored` is set, -1 on error. */
static inline int zksh_signal_relay_install(int signo, struct sigaction *previous, int keep_ignored) {
    struct sigaction action;
    if (sigaction(signo, NULL, previous) != 0) {
        return -1;
    }
    if (keep_ignored && previous->sa_handler == SIG_IGN) {
        return 0;
    }
    memset(&action, 0, sizeof(action));
    action.sa_handler = zksh_signal_relay_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    return sigaction(signo, &action, NULL) == 0 ? 1 : -1;
}

/* Puts back an action saved by zksh_signal_relay_install. */
static inline int zksh_signal_restore(int signo, const struct sigaction *previous) {
    return sigaction(signo, previous, NULL);
}

/* Unblocks `signo` in the calling thread and raises it, so that the currently
 * installed action (the default one, or the caller's) takes effect now. */
static inline int zksh_signal_raise_unblocked(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return raise(signo);
}

#endif
