/* signals.c — see signals.h. */
#include "util/signals.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <strings.h>

static const struct
{
  const char *name;
  int sig;
} table[] = {
  { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
  { "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },
  { "ILL", SIGILL },   { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGIOT },
  { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },
  { "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
  { "STOP", SIGSTOP }, { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
  { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
  { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

static int parse_num (const char *s)
{
  if (*s == '\0')
    return -1;
  for (const char *p = s; *p; p++)
    if (!isdigit ((unsigned char)*p))
      return -1;
  long v = strtol (s, NULL, 10);
  return v > 0 && v <= SIGRTMAX ? (int)v : -1;
}

int signal_parse (const char *name)
{
  if (name == NULL)
    return -1;
  int n = parse_num (name);
  if (n > 0)
    return n;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcasecmp (name, table[i].name) == 0)
      return table[i].sig;
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      const char *rest = name + 5;
      int off = 0;
      if (*rest == '+' || *rest == '-')
        {
          off = parse_num (rest + 1);
          if (off < 0)
            return -1;
          if (*rest == '-')
            off = -off;
        }
      else if (*rest != '\0')
        return -1;
      int sig = (min ? SIGRTMIN : SIGRTMAX) + off;
      return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
    }
  return -1;
}

const char *signal_name (int sig)
{
  static const char *const names[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",     [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",       [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",
    [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT",
    [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
    [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",         [SIGPWR] = "SIGPWR",
    [SIGSYS] = "SIGSYS",
  };
  if (sig > 0 && sig < (int)(sizeof names / sizeof names[0]))
    return names[sig];
  return NULL;
}
