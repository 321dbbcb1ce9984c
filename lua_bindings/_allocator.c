/* A cache of small free blocks in front of the C library's allocator, one per Lua state.

A message between two Lua processes of a host allocates about a dozen small blocks (the
message, its payload, the receiver's waiter: for each, a table and its array and hash
parts) and frees them a moment later, most of them in a batch when the collector sweeps.
glibc's per-thread cache keeps seven free blocks of a size; the rest of a sweep's frees go
back to its arenas, under the arena's lock, and come out of them again one by one. Lua
tells its allocator the size of every block it frees, so a free list per size class costs
a few instructions each way: 10 % of a ping-pong and 12 % of a spawn on this machine
(docs/performance.md, "A cache of small blocks").

The cache only ever holds blocks of the C library's malloc: a miss allocates with malloc,
a class that is full frees with free, and a freed block is filed by its usable size
(malloc_usable_size), never by the size Lua asked for, so the blocks the state allocated
before the cache was installed are filed correctly too. It is installed only over the
allocator of luaL_newstate (lupa's when no max_memory is given: realloc and free), found
by asking a probe state for its allocator.

When the state closes, a finalizer anchored in its registry (lua_close runs every
finalizer before it frees the objects) puts the original allocator back and frees the
cached blocks; the objects still alive are then freed by the original allocator, which is
free() too. No locking: a Lua state is used by one thread at a time (lupa holds the
state's lock around every call into it), and each state has its own cache.

Like the watchdog, the library does not link against Lua: `actors_allocator_bind` looks up
the handful of API functions in lupa's extension, and Lua opens the module with
package.loadlib.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

/* The parts of lua.h (5.4) used here. */
typedef struct lua_State lua_State;
typedef void *(*lua_Alloc)(void *ud, void *ptr, size_t osize, size_t nsize);
typedef int (*lua_CFunction)(lua_State *L);
#define LUA_REGISTRYINDEX (-1000000 - 1000)
#define lua_upvalueindex(i) (LUA_REGISTRYINDEX - (i))

static struct {
    lua_State *(*newstate)(void);
    void (*close)(lua_State *L);
    lua_Alloc (*getallocf)(lua_State *L, void **ud);
    void (*setallocf)(lua_State *L, lua_Alloc f, void *ud);
    void *(*newuserdatauv)(lua_State *L, size_t size, int nuvalue);
    void *(*touserdata)(lua_State *L, int idx);
    void (*createtable)(lua_State *L, int narr, int nrec);
    void (*pushcclosure)(lua_State *L, lua_CFunction f, int n);
    void (*setfield)(lua_State *L, int idx, const char *k);
    int (*setmetatable)(lua_State *L, int idx);
    void (*rawsetp)(lua_State *L, int idx, const void *p);
    void (*pushboolean)(lua_State *L, int b);
    void (*pushinteger)(lua_State *L, long long n);
    void (*pushvalue)(lua_State *L, int idx);
} api;

static lua_Alloc default_alloc; /* luaL_newstate's allocator; NULL until bound */

/* Class k holds blocks of at least k * GRAIN + SLACK usable bytes, at most limit[k] of
   them (class 0 is never used). Those are the sizes of glibc's small chunks (a multiple of
   16 bytes, less the 8 of its header), so a block made for a class takes the chunk
   malloc would have given the request anyway: rounding requests up to multiples of 16
   instead made each idle process 280 bytes larger. */
#define GRAIN 16
#define SLACK 8
#define CLASSES 16        /* the largest class: blocks of 264 bytes */
#define CLASS_BYTES 32768 /* at most this many bytes kept free per class: 512 KiB a state */
static unsigned limit[CLASSES + 1];

static inline size_t class_size(size_t k) { return k * GRAIN + SLACK; }

typedef struct Cache {
    void *head[CLASSES + 1]; /* free lists, linked through the blocks' first word */
    unsigned count[CLASSES + 1];
    lua_Alloc base; /* the state's allocator before the cache */
    void *base_ud;
} Cache;

static long live_caches; /* installed and not yet released (for tests) */

static void *cached_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    Cache *cache = ud;
    (void)osize;
    if (nsize == 0) {
        if (ptr != NULL) {
            size_t usable = malloc_usable_size(ptr);
            size_t k = usable < SLACK ? 0 : (usable - SLACK) / GRAIN;
            if (k <= CLASSES && cache->count[k] < limit[k]) {
                *(void **)ptr = cache->head[k];
                cache->head[k] = ptr;
                cache->count[k]++;
            } else {
                free(ptr);
            }
        }
        return NULL;
    }
    if (ptr == NULL) {
        size_t k = nsize <= class_size(1) ? 1 : (nsize - SLACK + GRAIN - 1) / GRAIN;
        if (k > CLASSES) return malloc(nsize);
        void *block = cache->head[k];
        if (block == NULL) return malloc(class_size(k));
        cache->head[k] = *(void **)block;
        cache->count[k]--;
        return block;
    }
    return realloc(ptr, nsize);
}

/* Free every block on the free lists; the bytes freed. */
static size_t flush(Cache *cache) {
    size_t freed = 0;
    for (int k = 0; k <= CLASSES; k++) {
        void *block = cache->head[k];
        while (block != NULL) {
            void *next = *(void **)block;
            free(block);
            freed += class_size(k);
            block = next;
        }
        cache->head[k] = NULL;
        cache->count[k] = 0;
    }
    return freed;
}

/* The anchor's finalizer: the state is closing (nothing else unanchors it). */
static int l_release(lua_State *L) {
    Cache **box = api.touserdata(L, 1);
    Cache *cache = *box;
    if (cache == NULL) return 0;
    *box = NULL;
    api.setallocf(L, cache->base, cache->base_ud);
    flush(cache);
    free(cache);
    __atomic_sub_fetch(&live_caches, 1, __ATOMIC_RELAXED);
    return 0;
}

/* trim(): free the blocks the cache holds (a state's boot leaves the parser's garbage
   there, which a state that now only runs code would keep for nothing); returns how many
   bytes that gave back. */
static int l_trim(lua_State *L) {
    Cache **box = api.touserdata(L, lua_upvalueindex(1));
    api.pushinteger(L, *box == NULL ? 0 : (long long)flush(*box));
    return 1;
}

/* Install the cache on L's state. Returns its trim function, or false when the state's
   allocator is not luaL_newstate's (or the library is not bound, or out of memory). */
int luaopen_actors_allocator(lua_State *L) {
    void *base_ud;
    if (default_alloc == NULL || api.getallocf(L, &base_ud) != default_alloc) {
        api.pushboolean(L, 0);
        return 1;
    }
    /* The Lua objects first: if making one raises (out of memory), nothing is leaked. */
    Cache **box = api.newuserdatauv(L, sizeof(Cache *), 0);
    *box = NULL;
    api.createtable(L, 0, 1);
    api.pushcclosure(L, l_release, 0);
    api.setfield(L, -2, "__gc");
    api.setmetatable(L, -2);
    Cache *cache = calloc(1, sizeof *cache);
    if (cache == NULL) {
        api.pushboolean(L, 0);
        return 1;
    }
    cache->base = default_alloc;
    cache->base_ud = base_ud;
    *box = cache;
    api.pushvalue(L, -1);
    api.rawsetp(L, LUA_REGISTRYINDEX, &live_caches); /* the anchor; pops the copy */
    api.pushcclosure(L, l_trim, 1);                  /* pops the userdata */
    api.setallocf(L, cached_alloc, cache);
    __atomic_add_fetch(&live_caches, 1, __ATOMIC_RELAXED);
    return 1;
}

/* The number of caches installed and not yet released. */
long actors_allocator_live_caches(void) { return __atomic_load_n(&live_caches, __ATOMIC_RELAXED); }

/* Look up Lua's API in lupa's extension (already loaded) and learn luaL_newstate's
   allocator. 0 on success; otherwise 1: the extension is not loaded, 2: a function is
   missing, 3: no probe state. */
int actors_allocator_bind(const char *lua_library) {
    if (default_alloc != NULL) return 0;
    void *lib = dlopen(lua_library, RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);
    if (lib == NULL) return 1;
#define FIND(field, name) \
    if ((*(void **)&api.field = dlsym(lib, name)) == NULL) return 2;
    FIND(newstate, "luaL_newstate")
    FIND(close, "lua_close")
    FIND(getallocf, "lua_getallocf")
    FIND(setallocf, "lua_setallocf")
    FIND(newuserdatauv, "lua_newuserdatauv")
    FIND(touserdata, "lua_touserdata")
    FIND(createtable, "lua_createtable")
    FIND(pushcclosure, "lua_pushcclosure")
    FIND(setfield, "lua_setfield")
    FIND(setmetatable, "lua_setmetatable")
    FIND(rawsetp, "lua_rawsetp")
    FIND(pushboolean, "lua_pushboolean")
    FIND(pushinteger, "lua_pushinteger")
    FIND(pushvalue, "lua_pushvalue")
#undef FIND
    for (int k = 1; k <= CLASSES; k++) limit[k] = CLASS_BYTES / class_size(k);
    lua_State *probe = api.newstate();
    if (probe == NULL) return 3;
    lua_Alloc found = api.getallocf(probe, NULL);
    api.close(probe);
    default_alloc = found; /* last: bound */
    return 0;
}
