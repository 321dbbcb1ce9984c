/* The CPU budget's watchdog, for the Lua 5.4 states of lupa.lua54.

Lua cannot be pre-empted, so a process that never yields would stall its host. A count
hook that looks at the clock every N instructions catches it, but any count hook sends
every instruction of the hooked coroutine down the interpreter's slow path
(luaG_traceexec): a third of a ping-pong between two processes. So no hook is set while
things go well. The kernel (core.lua) tells this module which coroutine runs a step, and
when the batch of steps ends (a step ends where the next begins); a watchdog thread
samples the CPU time of each running step's thread, and when a step has used more than
its host's budget the watchdog signals that thread.
The signal handler sets a one-shot count hook on the running coroutine, which is what
lua.c does on Ctrl-C: `lua_sethook` is the one Lua call meant to be made from a signal
handler. At its next instruction the coroutine calls the hook, and the hook calls the
kernel's Lua function that raises the process's Timeout.

Every check that matters runs on the Lua state's own thread: the handler arms only the
step the watchdog doomed, and the hook raises only if that step is still the one running,
so a late signal or a late hook never touches a process that is not over its budget.

The library does not link against Lua: lupa's extension carries its own copy, loaded
RTLD_LOCAL, so `actors_watchdog_bind` (called once, from Python through ctypes) looks up
the handful of API functions in it. Lua code then opens the module with package.loadlib.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The parts of lua.h (5.4) used here. */
typedef struct lua_State lua_State;
typedef struct lua_Debug lua_Debug;
typedef int (*lua_CFunction)(lua_State *L);
typedef void (*lua_Hook)(lua_State *L, lua_Debug *ar);
typedef intptr_t lua_KContext;
typedef int (*lua_KFunction)(lua_State *L, int status, lua_KContext ctx);
#define LUA_REGISTRYINDEX (-1000000 - 1000)
#define lua_upvalueindex(i) (LUA_REGISTRYINDEX - (i))
#define LUA_MASKCOUNT (1 << 3)
#define LUA_TNIL 0
#define LUA_TTHREAD 8

static struct {
    double (*version)(lua_State *L);
    void (*sethook)(lua_State *L, lua_Hook f, int mask, int count);
    lua_State *(*tothread)(lua_State *L, int idx);
    int (*type)(lua_State *L, int idx);
    double (*tonumberx)(lua_State *L, int idx, int *isnum);
    void *(*newuserdatauv)(lua_State *L, size_t size, int nuvalue);
    void *(*touserdata)(lua_State *L, int idx);
    void (*pushcclosure)(lua_State *L, lua_CFunction f, int n);
    void (*pushvalue)(lua_State *L, int idx);
    void (*createtable)(lua_State *L, int narr, int nrec);
    void (*setfield)(lua_State *L, int idx, const char *k);
    int (*setmetatable)(lua_State *L, int idx);
    int (*rawgetp)(lua_State *L, int idx, const void *p);
    void (*rawsetp)(lua_State *L, int idx, const void *p);
    void (*settop)(lua_State *L, int idx);
    void (*callk)(lua_State *L, int nargs, int nresults, lua_KContext ctx, lua_KFunction k);
    int (*error)(lua_State *L, const char *fmt, ...);
} api;

/* One per Lua state that has a budget. The kernel's thread writes `running`, `step` and
   `thread`; the watchdog reads them and writes `doomed_step`; the `seen_*` fields are the
   watchdog's own. */
typedef struct Slot {
    struct Slot *next;
    lua_State *volatile running; /* the coroutine running now; NULL between steps */
    volatile unsigned long step; /* bumped when a step begins */
    volatile pthread_t thread;   /* the thread running the step */
    volatile unsigned long doomed_step;
    volatile int64_t budget_ns;  /* 0: no budget */
    unsigned long seen_step;
    int64_t seen_cpu_ns;
    int seen;
} Slot;

/* Keys in a state's registry: its slot, and the Lua function the hook calls. */
static char SLOT_KEY, RAISE_KEY;

/* The list of slots, under a spin lock the signal handler only ever tries to take (if
   the interrupted code holds it, the handler gives up and the watchdog signals again). */
static Slot *slots;
static volatile char list_lock;
static int signal_number;
static int64_t interval_ns = 50 * 1000000LL;
static int watchdog_running;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_list(void) {
    while (__atomic_test_and_set(&list_lock, __ATOMIC_ACQUIRE)) sched_yield();
}
static int try_lock_list(void) { return !__atomic_test_and_set(&list_lock, __ATOMIC_ACQUIRE); }
static void unlock_list(void) { __atomic_clear(&list_lock, __ATOMIC_RELEASE); }

static int64_t thread_cpu_ns(pthread_t thread) {
    clockid_t clock;
    struct timespec now;
    if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &now) != 0)
        return -1;
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* The hook: one shot. Raises (through the kernel's function) only if the step the
   watchdog doomed is still running. */
static void on_count(lua_State *L, lua_Debug *ar) {
    (void)ar;
    api.sethook(L, NULL, 0, 0);
    api.rawgetp(L, LUA_REGISTRYINDEX, &SLOT_KEY);
    Slot **box = api.touserdata(L, -1);
    int doomed = box != NULL && *box != NULL && (*box)->doomed_step == (*box)->step &&
                 (*box)->running == L;
    api.settop(L, -2);
    if (!doomed) return;
    api.rawgetp(L, LUA_REGISTRYINDEX, &RAISE_KEY);
    api.callk(L, 0, 0, 0, NULL);
}

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    if (try_lock_list()) {
        pthread_t self = pthread_self();
        for (Slot *s = slots; s != NULL; s = s->next) {
            lua_State *co = s->running;
            if (co != NULL && s->doomed_step == s->step && pthread_equal(s->thread, self))
                api.sethook(co, on_count, LUA_MASKCOUNT, 1);
        }
        unlock_list();
    }
    errno = saved;
}

static void *watch(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* Python's signals go to its own threads */
    pthread_t targets[64];
    for (;;) {
        struct timespec pause = {interval_ns / 1000000000LL, interval_ns % 1000000000LL};
        nanosleep(&pause, NULL);
        int n = 0;
        lock_list();
        for (Slot *s = slots; s != NULL; s = s->next) {
            lua_State *co = s->running;
            unsigned long step = s->step;
            if (co == NULL || s->budget_ns == 0) {
                s->seen = 0;
                continue;
            }
            int64_t cpu = thread_cpu_ns(s->thread);
            if (cpu < 0) continue;
            if (!s->seen || s->seen_step != step) {
                s->seen = 1;
                s->seen_step = step;
                s->seen_cpu_ns = cpu;
            } else if (cpu - s->seen_cpu_ns >= s->budget_ns && n < 64) {
                /* at least the budget since the step was first seen, so more since it began */
                s->doomed_step = step;
                targets[n++] = s->thread;
            }
        }
        unlock_list();
        for (int i = 0; i < n; i++) pthread_kill(targets[i], signal_number);
    }
    return NULL;
}

static void start_watchdog(void) {
    pthread_mutex_lock(&start_lock);
    if (!watchdog_running) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        watchdog_running = pthread_create(&thread, &attr, watch, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&start_lock);
}

/* A forked child has no watchdog thread: start one there too. */
static void after_fork_in_child(void) {
    watchdog_running = 0;
    list_lock = 0;
    pthread_mutex_init(&start_lock, NULL);
    if (slots != NULL) start_watchdog();
}

/* The look is a tenth of the smallest budget, between 1 ms and 50 ms. */
static void set_interval_locked(void) {
    int64_t smallest = 0;
    for (Slot *s = slots; s != NULL; s = s->next)
        if (s->budget_ns > 0 && (smallest == 0 || s->budget_ns < smallest)) smallest = s->budget_ns;
    int64_t every = smallest / 10;
    if (every < 1000000LL) every = 1000000LL;
    if (every > 50000000LL) every = 50000000LL;
    interval_ns = every;
}

static Slot *slot_of(lua_State *L) { return *(Slot **)api.touserdata(L, lua_upvalueindex(1)); }

/* step(co): a step of coroutine `co` begins (the one before, if any, has ended); step(nil):
   no step runs (the kernel's batch has ended). */
static int l_step(lua_State *L) {
    Slot *s = slot_of(L);
    s->thread = pthread_self();
    s->step = s->step + 1;
    s->running = api.tothread(L, 1);
    return 0;
}

/* runs(co): within the step, `co` (a coroutine the process resumed) runs now. */
static int l_runs(lua_State *L) {
    slot_of(L)->running = api.tothread(L, 1);
    return 0;
}

/* restart(): the step goes on with a fresh budget (a new step for the watchdog, the same
   coroutine running); a hook already armed for the old one finds it no longer doomed. */
static int l_restart(lua_State *L) {
    Slot *s = slot_of(L);
    s->step = s->step + 1;
    return 0;
}

static int l_gc(lua_State *L) {
    Slot **box = api.touserdata(L, 1);
    Slot *s = *box;
    if (s == NULL) return 0;
    lock_list();
    for (Slot **p = &slots; *p != NULL; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    set_interval_locked();
    unlock_list();
    *box = NULL;
    free(s);
    return 0;
}

/* watch(seconds, raise) -> step, runs, restart: give this state a budget of `seconds` (0: none);
   `raise` is called, in the coroutine over budget, to fail it. */
static int l_watch(lua_State *L) {
    int isnum = 0;
    double seconds = api.tonumberx(L, 1, &isnum);
    if (!isnum || seconds < 0) return api.error(L, "watch: the budget must be seconds >= 0");
    api.pushvalue(L, 2);
    api.rawsetp(L, LUA_REGISTRYINDEX, &RAISE_KEY);
    Slot **box;
    if (api.rawgetp(L, LUA_REGISTRYINDEX, &SLOT_KEY) == LUA_TNIL) {
        api.settop(L, -2);
        Slot *s = calloc(1, sizeof(Slot));
        if (s == NULL) return api.error(L, "watch: out of memory");
        box = api.newuserdatauv(L, sizeof(Slot *), 0);
        *box = s;
        api.createtable(L, 0, 1);
        api.pushcclosure(L, l_gc, 0);
        api.setfield(L, -2, "__gc");
        api.setmetatable(L, -2);
        api.pushvalue(L, -1);
        api.rawsetp(L, LUA_REGISTRYINDEX, &SLOT_KEY);
        lock_list();
        s->next = slots;
        slots = s;
        unlock_list();
    } else {
        box = api.touserdata(L, -1);
    }
    lock_list();
    (*box)->budget_ns = (int64_t)(seconds * 1e9);
    set_interval_locked();
    unlock_list();
    start_watchdog();
    /* stack top: the slot's userdata, the upvalue of the three functions */
    api.pushvalue(L, -1);
    api.pushcclosure(L, l_step, 1);
    api.pushvalue(L, -2);
    api.pushcclosure(L, l_runs, 1);
    api.pushvalue(L, -3);
    api.pushcclosure(L, l_restart, 1);
    return 3;
}

int luaopen_actors_watchdog(lua_State *L) {
    if (api.sethook == NULL) return 0; /* not bound: package.loadlib's caller sees nil */
    if (api.version(L) != 504) return api.error(L, "the watchdog is built for Lua 5.4");
    api.createtable(L, 0, 1);
    api.pushcclosure(L, l_watch, 0);
    api.setfield(L, -2, "watch");
    return 1;
}

/* Look up Lua's API in lupa's extension (already loaded) and install the signal handler.
   0 on success; otherwise 1: the extension is not loaded, 2: a function is missing,
   3: no free real-time signal. */
int actors_watchdog_bind(const char *lua_library) {
    if (api.sethook != NULL) return 0;
    void *lib = dlopen(lua_library, RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);
    if (lib == NULL) return 1;
#define FIND(field, name) \
    if ((*(void **)&api.field = dlsym(lib, name)) == NULL) return 2;
    FIND(version, "lua_version")
    FIND(tothread, "lua_tothread")
    FIND(type, "lua_type")
    FIND(tonumberx, "lua_tonumberx")
    FIND(newuserdatauv, "lua_newuserdatauv")
    FIND(touserdata, "lua_touserdata")
    FIND(pushcclosure, "lua_pushcclosure")
    FIND(pushvalue, "lua_pushvalue")
    FIND(createtable, "lua_createtable")
    FIND(setfield, "lua_setfield")
    FIND(setmetatable, "lua_setmetatable")
    FIND(rawgetp, "lua_rawgetp")
    FIND(rawsetp, "lua_rawsetp")
    FIND(settop, "lua_settop")
    FIND(callk, "lua_callk")
    FIND(error, "luaL_error")
#undef FIND
    void *sethook = dlsym(lib, "lua_sethook");
    if (sethook == NULL) return 2;
    for (int sig = SIGRTMIN + 4; sig <= SIGRTMAX; sig++) {
        struct sigaction old;
        if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        action.sa_flags = SA_RESTART | SA_ONSTACK;
        sigfillset(&action.sa_mask);
        if (sigaction(sig, &action, NULL) != 0) continue;
        signal_number = sig;
        break;
    }
    if (signal_number == 0) return 3;
    pthread_atfork(NULL, NULL, after_fork_in_child);
    *(void **)&api.sethook = sethook; /* last: bound */
    return 0;
}
