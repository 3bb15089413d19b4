/* The lean tracer's per-request work in C: the span record, span start, the server span.
 *
 * Same behaviour as the pure-Python path it replaces (tracing.records.PySpan's hot methods,
 * tracing.tracer.Tracer.start_owned, tracing.asgi.ServerSpan): the tracer contract tests run
 * against both. Everything rare (events, links, status, exceptions, a caller's `traceparent`,
 * the sampling rules at a trace's end) stays in Python and is called from here.
 *
 * Why, and what it saves: tracing/native.py.
 *
 * Built by `hatch_build.py` when the project is installed (`uv sync`); if it cannot be built
 * (no C compiler), the package runs on the pure-Python path. `tracing.hotpath` loads it.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#ifdef __APPLE__
#include <sys/random.h>
#endif

/* Objects from Python, handed over once by `init()` (see tracing/hotpath.py). */
static PyObject *SpanContextType;    /* opentelemetry.trace.SpanContext (a tuple subclass) */
static PyObject *NonRecordingSpanType;
static PyObject *ContextType;        /* opentelemetry.context.Context (a dict subclass) */
static PyObject *INVALID_SPAN;
static PyObject *SAMPLED;            /* TraceFlags(1) */
static PyObject *NOT_SAMPLED;        /* TraceFlags(0) */
static PyObject *EMPTY_TRACE_STATE;
static PyObject *UNSET_STATUS;
static PyObject *ERROR_CODE;         /* StatusCode.ERROR */
static PyTypeObject *SamplingType;   /* tracing.sampling.Sampling: its rules are read here */
static PyObject *ERROR_STATUS;       /* Status(StatusCode.ERROR) */
static PyObject *SERVER_KIND;        /* SpanKind.SERVER */
static PyObject *INTERNAL_KIND;      /* SpanKind.INTERNAL */
static PyObject *CURRENT_SPAN;       /* tracing.current.current_span: for what is not ours */
static PyObject *SPAN_KEY;           /* the API's key of the current span in a Context */
static PyObject *CURRENT;            /* the ContextVar holding the current Context */
static PyObject *EXTRACT_PARENT;     /* headers -> the caller's span (a `traceparent` is there) */
static PyObject *DETACH;             /* opentelemetry.context.detach: for a foreign token */

/* Interned strings. */
static PyObject *s_on_end, *s_keeps, *s_status_code, *s_slow_threshold_ns, *s_keep_failed, *s_get_span_context, *s_set_attribute, *s_set_status,
    *s_update_name, *s_end, *s_headers, *s_method, *s_path, *s_scheme, *s_http, *s_status,
    *s_route, *s_trace_flags, *s_sampled, *s_method_attr, *s_path_attr, *s_scheme_attr,
    *s_status_attr, *s_route_attr;
static PyObject *header_name; /* b"x-trace-id" */
static PyObject *EMPTY_TUPLE;
static PyObject *span_names; /* route template -> {method: server span name} */

#if PY_VERSION_HEX >= 0x030D0000
#define GET_OPTIONAL_ATTR PyObject_GetOptionalAttr
#else
#define GET_OPTIONAL_ATTR _PyObject_LookupAttr
#endif

#define MAX_ATTRIBUTES 128
#define MAX_METHODS 16

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* SpanRecord: the fields of tracing.records.Span and its hot methods.                          */

typedef struct {
    PyObject_HEAD
    PyObject *name;
    PyObject *context;
    PyObject *parent;
    PyObject *kind;
    PyObject *attributes;
    PyObject *events;
    PyObject *links;
    PyObject *start_time;
    PyObject *end_time;
    PyObject *status;
    PyObject *scope;
    PyObject *kept;
    PyObject *sink;
    PyObject *root;
    PyObject *pending;
    PyObject *sampling;
    PyObject *record_exception;
    PyObject *set_status_on_exception;
} SpanRecord;

static PyTypeObject SpanRecordType;

#define SPAN_FIELDS(X)                                                                         \
    X(name) X(context) X(parent) X(kind) X(attributes) X(events) X(links) X(start_time)        \
    X(end_time) X(status) X(scope) X(kept) X(sink) X(root) X(pending) X(sampling)              \
    X(record_exception) X(set_status_on_exception)

static int
SpanRecord_traverse(SpanRecord *self, visitproc visit, void *arg)
{
#define VISIT(f) Py_VISIT(self->f);
    SPAN_FIELDS(VISIT)
#undef VISIT
    return 0;
}

static int
SpanRecord_clear(SpanRecord *self)
{
#define CLEAR(f) Py_CLEAR(self->f);
    SPAN_FIELDS(CLEAR)
#undef CLEAR
    return 0;
}

static void
SpanRecord_dealloc(SpanRecord *self)
{
    PyObject_GC_UnTrack(self);
    SpanRecord_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Replace a field's value (steals `value`). */
static inline void
set_field(PyObject **field, PyObject *value)
{
    PyObject *old = *field;
    *field = value;
    Py_XDECREF(old);
}

static inline int
is_none(PyObject *o)
{
    return o == NULL || o == Py_None;
}

static PyObject *
SpanRecord_get_span_context(SpanRecord *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self->context ? self->context : Py_None);
}

static PyObject *
SpanRecord_is_recording(SpanRecord *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(is_none(self->end_time));
}

static int
call_on_end(PyObject *sink, PyObject *span)
{
    PyObject *r = PyObject_CallMethodOneArg(sink, s_on_end, span);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Whether `span` ended with status ERROR. */
static int
failed(SpanRecord *span)
{
    if (span->status == UNSET_STATUS || span->status == NULL)
        return 0;
    PyObject *code = PyObject_GetAttr(span->status, s_status_code);
    if (code == NULL)
        return -1;
    int is_error = code == ERROR_CODE;
    Py_DECREF(code);
    return is_error;
}

/* A time in nanoseconds as a C integer (`PyLong_AsLongLong` converts multi-digit ints through
   a byte array in CPython 3.11; `PyLong_AsLong` reads their digits). */
static inline long long
as_nanoseconds(PyObject *value)
{
#if LONG_MAX >= LLONG_MAX
    return PyLong_AsLong(value);
#else
    return PyLong_AsLongLong(value);
#endif
}

/* The rules of the last `Sampling` read (a frozen dataclass, so they do not change; held so
   that its address is not reused by another while cached). */
static struct {
    PyObject *sampling;
    int has_threshold;
    long long threshold_ns;
    int keep_failed;
} rules;

/* Read the rules of `sampling` (a `Sampling`) into `rules`, unless they are there. */
static int
read_rules(PyObject *sampling)
{
    if (sampling == rules.sampling)
        return 0;
    PyObject *threshold = PyObject_GetAttr(sampling, s_slow_threshold_ns);
    if (threshold == NULL)
        return -1;
    long long limit = threshold == Py_None ? 0 : PyLong_AsLongLong(threshold);
    int has_threshold = threshold != Py_None;
    Py_DECREF(threshold);
    if (limit == -1 && PyErr_Occurred())
        return -1;
    PyObject *keep_failed = PyObject_GetAttr(sampling, s_keep_failed);
    int check = keep_failed == NULL ? -1 : PyObject_IsTrue(keep_failed);
    Py_XDECREF(keep_failed);
    if (check < 0)
        return -1;
    Py_XSETREF(rules.sampling, Py_NewRef(sampling));
    rules.has_threshold = has_threshold;
    rules.threshold_ns = limit;
    rules.keep_failed = check;
    return 0;
}

/* Sampling.keeps(root, pending) (tracing.sampling: the rules at a dropped trace's end), read
   from the rules' fields; another sampling class is asked in Python. */
static int
keeps(SpanRecord *root, PyObject *pending)
{
    PyObject *sampling = root->sampling;
    if (Py_TYPE(sampling) != SamplingType) {
        PyObject *r = PyObject_CallMethodObjArgs(sampling, s_keeps, root, pending, NULL);
        int kept = r == NULL ? -1 : PyObject_IsTrue(r);
        Py_XDECREF(r);
        return kept;
    }
    if (read_rules(sampling) < 0)
        return -1;
    if (rules.has_threshold) {
        long long start_ns = as_nanoseconds(root->start_time);
        long long end_ns = is_none(root->end_time) ? start_ns : as_nanoseconds(root->end_time);
        if (PyErr_Occurred())
            return -1;
        if (end_ns - start_ns >= rules.threshold_ns)
            return 1;
    }
    if (!rules.keep_failed)
        return 0;
    int f = failed(root);
    for (Py_ssize_t i = 0; f == 0 && i < PyList_GET_SIZE(pending); i++) {
        PyObject *span = PyList_GET_ITEM(pending, i);
        if (PyObject_TypeCheck(span, &SpanRecordType)) {
            f = failed((SpanRecord *)span);
        }
        else { /* not ours: its status through Python */
            PyObject *status = PyObject_GetAttr(span, s_status);
            PyObject *code = status == NULL || status == UNSET_STATUS
                                 ? NULL
                                 : PyObject_GetAttr(status, s_status_code);
            f = status == NULL || (code == NULL && status != UNSET_STATUS) ? -1
                                                                           : code == ERROR_CODE;
            Py_XDECREF(status);
            Py_XDECREF(code);
        }
    }
    return f;
}

/* End `self` at `end_time` (a new reference, or NULL for now). */
static int
span_end(SpanRecord *self, PyObject *end_time)
{
    if (!is_none(self->end_time)) {
        Py_XDECREF(end_time);
        return 0;
    }
    if (end_time == NULL && (end_time = PyLong_FromLongLong(now_ns())) == NULL)
        return -1;
    set_field(&self->end_time, end_time);
    SpanRecord *root = is_none(self->root) ? self : (SpanRecord *)self->root;
    PyObject *pending = root->pending;
    if (is_none(pending)) { /* decided: kept by the head sampler or at the root's end */
        if (root->kept == Py_True)
            return call_on_end(self->sink, (PyObject *)self);
        return 0;
    }
    if (root != self)
        return PyList_Append(pending, (PyObject *)self);
    /* The local root of an undecided trace: its end decides (tracing.sampling). */
    self->pending = Py_NewRef(Py_None);
    int kept = keeps(self, pending);
    int rc = 0;
    if (kept < 0) {
        rc = -1;
    }
    else if (kept) {
        set_field(&self->kept, Py_NewRef(Py_True));
        for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(pending); i++)
            rc = call_on_end(self->sink, PyList_GET_ITEM(pending, i));
        if (rc == 0)
            rc = call_on_end(self->sink, (PyObject *)self);
    }
    Py_DECREF(pending);
    return rc;
}

static PyObject *
SpanRecord_end(SpanRecord *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"end_time"};
    PyObject *end_time = NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1 || (nkw == 1 && PyUnicode_CompareWithASCIIString(
                                             PyTuple_GET_ITEM(kwnames, 0), names[0]) != 0)) {
        PyErr_SetString(PyExc_TypeError, "end() takes at most one argument, end_time");
        return NULL;
    }
    if (nargs + nkw == 1)
        end_time = args[0];
    if (span_end(self, is_none(end_time) ? NULL : Py_NewRef(end_time)) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int
span_set_attribute(SpanRecord *self, PyObject *key, PyObject *value)
{
    if (!is_none(self->end_time) || value == Py_None)
        return 0;
    PyObject *attributes = self->attributes;
    if (!PyDict_Check(attributes)) {
        PyErr_SetString(PyExc_TypeError, "a span's attributes must be a dict");
        return -1;
    }
    if (PyDict_GET_SIZE(attributes) < MAX_ATTRIBUTES)
        return PyDict_SetItem(attributes, key, value);
    int has = PyDict_Contains(attributes, key);
    if (has <= 0)
        return has;
    return PyDict_SetItem(attributes, key, value);
}

static PyObject *
SpanRecord_set_attribute(SpanRecord *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "set_attribute() takes two arguments, key and value");
        return NULL;
    }
    if (span_set_attribute(self, args[0], args[1]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef SpanRecord_methods[] = {
    {"get_span_context", (PyCFunction)SpanRecord_get_span_context, METH_NOARGS,
     "The ids of this span."},
    {"is_recording", (PyCFunction)SpanRecord_is_recording, METH_NOARGS, "True until the span ends."},
    {"end", (PyCFunction)(void (*)(void))SpanRecord_end, METH_FASTCALL | METH_KEYWORDS,
     "End the span; a kept trace's spans go to the exporter, a dropped one's nowhere."},
    {"set_attribute", (PyCFunction)(void (*)(void))SpanRecord_set_attribute, METH_FASTCALL,
     "Set one attribute (ignored after the end, for None, or beyond the limit)."},
    {NULL},
};

/* What C relies on is read-only from Python: the ids (`context`), the trace's root and its
   pending spans; the rest may be rewritten (a redactor rewrites names and attributes). */
#define MEMBER(f, n) {n, T_OBJECT, offsetof(SpanRecord, f), 0, NULL},
#define READONLY_MEMBER(f, n) {n, T_OBJECT, offsetof(SpanRecord, f), READONLY, NULL},
static PyMemberDef SpanRecord_members[] = {
    MEMBER(name, "name") READONLY_MEMBER(context, "context") MEMBER(parent, "parent")
    MEMBER(kind, "kind") MEMBER(attributes, "attributes") MEMBER(events, "events")
    MEMBER(links, "links") MEMBER(start_time, "start_time") MEMBER(end_time, "end_time")
    MEMBER(status, "status") MEMBER(scope, "scope") MEMBER(kept, "kept")
    MEMBER(sink, "_sink") READONLY_MEMBER(root, "_root") READONLY_MEMBER(pending, "_pending")
    MEMBER(sampling, "_sampling") MEMBER(record_exception, "_record_exception")
    MEMBER(set_status_on_exception, "_set_status_on_exception")
    {NULL},
};
#undef READONLY_MEMBER
#undef MEMBER

static PyTypeObject SpanRecordType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracing._hotpath.SpanRecord",
    .tp_doc = "The fields of a lean span and its hot methods (tracing.records.Span's base).",
    .tp_basicsize = sizeof(SpanRecord),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)SpanRecord_dealloc,
    .tp_traverse = (traverseproc)SpanRecord_traverse,
    .tp_clear = (inquiry)SpanRecord_clear,
    .tp_methods = SpanRecord_methods,
    .tp_members = SpanRecord_members,
};

/* ------------------------------------------------------------------------------------------ */
/* Starter: tracing.tracer.Tracer.start_owned.                                                  */

typedef struct {
    PyObject_HEAD
    PyTypeObject *span_type; /* a Python subclass of SpanRecord (tracing.records.NativeSpan) */
    PyObject *sink;
    PyObject *scope;
    PyObject *sampling;
    unsigned long long bound; /* head-sampled: low 64 bits of the trace id below this */
    int keep_all;             /* ratio 1: the bound is 2^64 */
    int tail;                 /* traces the head drops may be kept at their end */
    int parent_based;
} Starter;

static int
Starter_traverse(Starter *self, visitproc visit, void *arg)
{
    Py_VISIT(self->span_type);
    Py_VISIT(self->sink);
    Py_VISIT(self->scope);
    Py_VISIT(self->sampling);
    return 0;
}

static int
Starter_clear(Starter *self)
{
    Py_CLEAR(self->span_type);
    Py_CLEAR(self->sink);
    Py_CLEAR(self->scope);
    Py_CLEAR(self->sampling);
    return 0;
}

static void
Starter_dealloc(Starter *self)
{
    PyObject_GC_UnTrack(self);
    Starter_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Starter_init(Starter *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"span_type", "sink", "scope", "sampling", NULL};
    PyObject *span_type, *sink, *scope, *sampling;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOO:Starter", names, &PyType_Type,
                                     &span_type, &sink, &scope, &sampling))
        return -1;
    if (SpanContextType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tracing._hotpath.init() was not called");
        return -1;
    }
    if (!PyType_IsSubtype((PyTypeObject *)span_type, &SpanRecordType)) {
        PyErr_SetString(PyExc_TypeError, "span_type must subclass SpanRecord");
        return -1;
    }
    PyObject *bound = PyObject_GetAttrString(sampling, "bound");
    PyObject *tail = bound ? PyObject_GetAttrString(sampling, "tail") : NULL;
    PyObject *parent_based = tail ? PyObject_GetAttrString(sampling, "parent_based") : NULL;
    int ok = parent_based != NULL;
    if (ok) {
        PyObject *limit = PyLong_FromUnsignedLongLong(0xFFFFFFFFFFFFFFFFULL);
        int over = limit ? PyObject_RichCompareBool(bound, limit, Py_GT) : -1;
        Py_XDECREF(limit);
        self->keep_all = over == 1;
        self->bound = over == 0 ? PyLong_AsUnsignedLongLong(bound) : 0;
        self->tail = PyObject_IsTrue(tail);
        self->parent_based = PyObject_IsTrue(parent_based);
        ok = over >= 0 && !PyErr_Occurred() && self->tail >= 0 && self->parent_based >= 0;
    }
    Py_XDECREF(bound);
    Py_XDECREF(tail);
    Py_XDECREF(parent_based);
    if (!ok)
        return -1;
    Py_XSETREF(self->span_type, (PyTypeObject *)Py_NewRef(span_type));
    Py_XSETREF(self->sink, Py_NewRef(sink));
    Py_XSETREF(self->scope, Py_NewRef(scope));
    Py_XSETREF(self->sampling, Py_NewRef(sampling));
    return 0;
}

/* Span and trace ids: xoshiro256** (Blackman and Vigna), seeded from the OS's entropy when the
   module loads and again in every forked child (workers must not repeat their parent's ids). As
   random as the SDK's ids (`random.getrandbits`, a Mersenne Twister), without a Python call and
   an int to convert back to bytes for the hex form; the pure-Python path keeps `random`. Callers
   hold the GIL. */
static uint64_t rng[4];

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
next_random(void)
{
    uint64_t result = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return result;
}

static void
seed_ids(void)
{
    if (getentropy(rng, sizeof rng) != 0) { /* no entropy source: the clock, pid and an address */
        uint64_t x = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&x;
        for (int i = 0; i < 4; i++) { /* splitmix64 */
            uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            rng[i] = z ^ (z >> 31);
        }
    }
    if ((rng[0] | rng[1] | rng[2] | rng[3]) == 0)
        rng[0] = 1;
}

/* The ids of a started span, big-endian (what the hex forms are written from). */
typedef struct {
    unsigned char trace[16];
    unsigned char span[8];
} Ids;

static void
put_u64(unsigned char *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        out[i] = (unsigned char)value;
}

static int
int_bytes(PyObject *value, unsigned char *out, size_t n)
{
#if PY_VERSION_HEX >= 0x030D0000
    return _PyLong_AsByteArray((PyLongObject *)value, out, n, 0, 0, 1);
#else
    return _PyLong_AsByteArray((PyLongObject *)value, out, n, 0, 0);
#endif
}

/* A new random trace id (never 0) as an int; its low 64 bits in `*low`, its bytes in `ids`. */
static PyObject *
new_trace_id(uint64_t *low, Ids *ids)
{
    unsigned char bytes[16];
    uint64_t high = next_random();
    *low = next_random();
    if ((high | *low) == 0)
        *low = 1;
    put_u64(bytes, high);
    put_u64(bytes + 8, *low);
    if (ids != NULL)
        memcpy(ids->trace, bytes, 16);
    return _PyLong_FromByteArray(bytes, 16, 0, 0);
}

/* Head decision for a new trace: the ratio over the trace id's low 64 bits. */
static int
head_sampled(Starter *self, uint64_t low)
{
    return self->keep_all || low < self->bound;
}

/* Items of a SpanContext tuple, borrowed. */
#define CTX(c, i) PyTuple_GET_ITEM((c), (i))

/* A new span under `parent` owning `attributes` (see Tracer.start_owned); its ids' bytes in
   `ids` unless that is NULL. */
static PyObject *
start(Starter *self, PyObject *name, PyObject *kind, PyObject *attributes, PyObject *parent,
      Ids *ids)
{
    PyObject *trace_id = NULL, *trace_state, *parent_context = Py_None, *owned_context = NULL;
    SpanRecord *root = NULL;
    uint64_t low;
    int sampled, fresh = 0; /* fresh: a new trace id, its bytes already in `ids` */
    if (Py_TYPE(parent) == self->span_type) { /* a local parent: its root decides */
        SpanRecord *p = (SpanRecord *)parent;
        parent_context = p->context;
        root = is_none(p->root) ? p : (SpanRecord *)p->root;
        trace_id = Py_NewRef(CTX(p->context, 0));
        sampled = root->kept == Py_True;
        trace_state = CTX(p->context, 4);
    }
    else if (parent == INVALID_SPAN) { /* a new trace */
        if ((trace_id = new_trace_id(&low, ids)) == NULL)
            return NULL;
        fresh = 1;
        sampled = head_sampled(self, low);
        trace_state = EMPTY_TRACE_STATE;
    }
    else { /* a caller's context (NonRecordingSpan), or another implementation's span */
        owned_context = PyObject_CallMethodNoArgs(parent, s_get_span_context);
        if (owned_context == NULL)
            return NULL;
        if (!PyTuple_Check(owned_context) || PyTuple_GET_SIZE(owned_context) != 6) {
            PyErr_SetString(PyExc_TypeError, "the parent's context is not a SpanContext");
            Py_DECREF(owned_context);
            return NULL;
        }
        if (PyObject_IsTrue(CTX(owned_context, 5))) { /* is_valid */
            trace_id = Py_NewRef(CTX(owned_context, 0));
            if (self->parent_based || !PyObject_IsTrue(CTX(owned_context, 2))) {
                long flags = PyLong_AsLong(CTX(owned_context, 3));
                sampled = flags == -1 && PyErr_Occurred() ? -1 : (flags & 1) != 0;
            }
            else {
                low = PyLong_AsUnsignedLongLongMask(trace_id);
                sampled = low == (uint64_t)-1 && PyErr_Occurred() ? -1 : head_sampled(self, low);
            }
            trace_state = CTX(owned_context, 4);
            parent_context = owned_context;
        }
        else {
            if ((trace_id = new_trace_id(&low, ids)) == NULL) {
                Py_DECREF(owned_context);
                return NULL;
            }
            fresh = 1;
            sampled = head_sampled(self, low);
            trace_state = EMPTY_TRACE_STATE;
        }
    }
    PyObject *span = NULL, *span_context = NULL, *span_id = NULL;
    if (sampled < 0)
        goto done;
    if (ids != NULL && !fresh && int_bytes(trace_id, ids->trace, 16) < 0)
        goto done; /* a parent's trace id */
    uint64_t span_bits = next_random();
    span_bits += span_bits == 0;
    if (ids != NULL)
        put_u64(ids->span, span_bits);
    if ((span_id = PyLong_FromUnsignedLongLong(span_bits)) == NULL)
        goto done;
    /* The API's SpanContext layout, built directly: its `__new__` validates in Python, and
       these ids are valid by construction (tracing.tracer explains; a test pins the layout). */
    span_context = ((PyTypeObject *)SpanContextType)->tp_alloc((PyTypeObject *)SpanContextType, 6);
    if (span_context == NULL)
        goto done;
    PyTuple_SET_ITEM(span_context, 0, Py_NewRef(trace_id));
    PyTuple_SET_ITEM(span_context, 1, Py_NewRef(span_id));
    PyTuple_SET_ITEM(span_context, 2, Py_NewRef(Py_False));
    PyTuple_SET_ITEM(span_context, 3, Py_NewRef(sampled ? SAMPLED : NOT_SAMPLED));
    PyTuple_SET_ITEM(span_context, 4, Py_NewRef(trace_state));
    PyTuple_SET_ITEM(span_context, 5, Py_NewRef(Py_True));
    if (!sampled && root == NULL && !self->tail) {
        span = PyObject_CallOneArg(NonRecordingSpanType, span_context);
        goto done;
    }
    PyObject *start_time = PyLong_FromLongLong(now_ns());
    if (start_time == NULL)
        goto done;
    SpanRecord *s = (SpanRecord *)self->span_type->tp_alloc(self->span_type, 0);
    if (s == NULL) {
        Py_DECREF(start_time);
        goto done;
    }
    s->name = Py_NewRef(name);
    s->context = Py_NewRef(span_context);
    s->parent = Py_NewRef(parent_context);
    s->kind = Py_NewRef(kind);
    s->attributes = Py_NewRef(attributes);
    s->events = PyTuple_New(0);
    s->links = PyTuple_New(0);
    s->start_time = start_time;
    s->end_time = Py_NewRef(Py_None);
    s->status = Py_NewRef(UNSET_STATUS);
    s->scope = Py_NewRef(self->scope);
    s->kept = Py_NewRef(sampled ? Py_True : Py_False);
    s->sink = Py_NewRef(self->sink);
    s->root = Py_NewRef(root ? (PyObject *)root : Py_None);
    s->pending = root != NULL || sampled ? Py_NewRef(Py_None) : PyList_New(0);
    s->sampling = Py_NewRef(self->sampling);
    s->record_exception = Py_NewRef(Py_False);
    s->set_status_on_exception = Py_NewRef(Py_False);
    if (s->pending == NULL)
        Py_CLEAR(s);
    span = (PyObject *)s;
done:
    Py_XDECREF(trace_id);
    Py_XDECREF(span_id);
    Py_XDECREF(span_context);
    Py_XDECREF(owned_context);
    return span;
}

static PyObject *
Starter_call(Starter *self, PyObject *args, PyObject *kwds)
{
    PyObject *name, *kind, *attributes, *parent;
    if (kwds != NULL && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "start_owned() takes positional arguments only");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "start_owned", 4, 4, &name, &kind, &attributes, &parent))
        return NULL;
    if (!PyDict_Check(attributes)) {
        PyErr_SetString(PyExc_TypeError, "attributes must be a dict");
        return NULL;
    }
    return start(self, name, kind, attributes, parent, NULL);
}

static PyObject *server_span(PyObject *starter, PyObject *scope);
static PyObject *span_scope(PyObject *starter, PyObject *const *args, Py_ssize_t nargs);

static PyMethodDef Starter_methods[] = {
    {"server_span", (PyCFunction)server_span, METH_O,
     "server_span(scope): the SERVER span of the HTTP request `scope` (tracing.asgi.ServerSpan "
     "in C), current until its `end`."},
    {"span_scope", (PyCFunction)(void (*)(void))span_scope, METH_FASTCALL,
     "span_scope(name, attributes, client_errors, current, record_error): a span around a block "
     "(tracing.spans._SpanScope in C)."},
    {NULL},
};

static PyTypeObject StarterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracing._hotpath.Starter",
    .tp_doc = "Starter(span_type, sink, scope, sampling): "
              "Tracer.start_owned(name, kind, attributes, parent) in C.",
    .tp_basicsize = sizeof(Starter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Starter_init,
    .tp_dealloc = (destructor)Starter_dealloc,
    .tp_traverse = (traverseproc)Starter_traverse,
    .tp_clear = (inquiry)Starter_clear,
    .tp_call = (ternaryfunc)Starter_call,
    .tp_methods = Starter_methods,
};

/* ------------------------------------------------------------------------------------------ */
/* ServerSpan: tracing.asgi.ServerSpan.                                                         */

typedef struct {
    PyObject_HEAD
    PyObject *span;
    PyObject *attributes; /* the lean span's own dict; NULL for a non-recording span */
    PyObject *method;
    PyObject *token;
    PyObject *trace_id;   /* str, 32 hex digits */
    PyObject *span_id;    /* str, 16 hex digits */
    PyObject *header;     /* (b"x-trace-id", trace id bytes) */
    Starter *starter;
} ServerSpan;

static PyTypeObject ServerSpanType;

static int
ServerSpan_traverse(ServerSpan *self, visitproc visit, void *arg)
{
    Py_VISIT(self->span);
    Py_VISIT(self->attributes);
    Py_VISIT(self->method);
    Py_VISIT(self->token);
    Py_VISIT(self->trace_id);
    Py_VISIT(self->span_id);
    Py_VISIT(self->header);
    Py_VISIT(self->starter);
    return 0;
}

static int
ServerSpan_clear(ServerSpan *self)
{
    Py_CLEAR(self->span);
    Py_CLEAR(self->attributes);
    Py_CLEAR(self->method);
    Py_CLEAR(self->token);
    Py_CLEAR(self->trace_id);
    Py_CLEAR(self->span_id);
    Py_CLEAR(self->header);
    Py_CLEAR(self->starter);
    return 0;
}

static void
ServerSpan_dealloc(ServerSpan *self)
{
    PyObject_GC_UnTrack(self);
    ServerSpan_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* `n` bytes as 2n lowercase hex digits into `text`. */
static void
hex_text(const unsigned char *bytes, size_t n, char *text)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 0xF];
    }
}

/* Make `span` the current span; returns the ContextVar token. */
static PyObject *
attach_span(PyObject *span)
{
    PyObject *current;
    if (PyContextVar_Get(CURRENT, NULL, &current) < 0)
        return NULL;
    /* A new Context holding the current one's items and the span: made by dict's `tp_new`
       (Context has no `__init__`) and filled once, rather than a dict copy passed to
       `Context(items)`, which copies it again through the type call. */
    PyTypeObject *type = (PyTypeObject *)ContextType;
    PyObject *context = type->tp_new(type, EMPTY_TUPLE, NULL);
    int rc = context == NULL ? -1 : 0;
    if (rc == 0 && current != NULL && PyDict_Check(current))
        rc = PyDict_Merge(context, current, 1);
    Py_XDECREF(current);
    if (rc == 0)
        rc = PyDict_SetItem(context, SPAN_KEY, span);
    if (rc < 0) {
        Py_XDECREF(context);
        return NULL;
    }
    PyObject *token = PyContextVar_Set(CURRENT, context);
    Py_DECREF(context);
    return token;
}

static int
detach(PyObject *token)
{
    if (PyContextVar_Reset(CURRENT, token) == 0)
        return 0;
    if (!PyErr_ExceptionMatches(PyExc_ValueError))
        return -1;
    PyErr_Clear(); /* a token of another context: the API's detach logs the failure */
    PyObject *r = PyObject_CallOneArg(DETACH, token);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* The server span of the request `scope` (a dict), started by `starter`. */
static PyObject *
server_span(PyObject *starter, PyObject *scope)
{
    if (!PyDict_Check(scope)) {
        PyErr_SetString(PyExc_TypeError, "scope must be a dict");
        return NULL;
    }
    PyObject *headers = PyDict_GetItemWithError(scope, s_headers);
    PyObject *method = PyDict_GetItemWithError(scope, s_method);
    PyObject *path = PyDict_GetItemWithError(scope, s_path);
    if (headers == NULL || method == NULL || path == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "scope needs headers, method and path");
        return NULL;
    }
    PyObject *scheme = PyDict_GetItemWithError(scope, s_scheme);
    if (scheme == NULL && PyErr_Occurred())
        return NULL;
    PyObject *parent = Py_NewRef(INVALID_SPAN);
    PyObject *seq = PySequence_Fast(headers, "scope headers must be a sequence");
    if (seq == NULL)
        goto fail_parent;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *name = PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2
                             ? PyTuple_GET_ITEM(pair, 0)
                             : PySequence_GetItem(pair, 0);
        if (name == NULL) {
            Py_DECREF(seq);
            goto fail_parent;
        }
        int found = PyBytes_Check(name) && PyBytes_GET_SIZE(name) == 11 &&
                    memcmp(PyBytes_AS_STRING(name), "traceparent", 11) == 0;
        if (!PyTuple_Check(pair))
            Py_DECREF(name);
        if (found) { /* the caller's trace context */
            Py_SETREF(parent, PyObject_CallOneArg(EXTRACT_PARENT, headers));
            break;
        }
    }
    Py_DECREF(seq);
    if (parent == NULL)
        return NULL;
    PyObject *attributes = PyDict_New();
    if (attributes == NULL || PyDict_SetItem(attributes, s_method_attr, method) < 0 ||
        PyDict_SetItem(attributes, s_path_attr, path) < 0 ||
        PyDict_SetItem(attributes, s_scheme_attr, scheme ? scheme : s_http) < 0) {
        Py_XDECREF(attributes);
        goto fail_parent;
    }
    Starter *st = (Starter *)starter;
    Ids ids;
    PyObject *span = start(st, method, SERVER_KIND, attributes, parent, &ids);
    Py_DECREF(parent);
    if (span == NULL) {
        Py_DECREF(attributes);
        return NULL;
    }
    ServerSpan *self = (ServerSpan *)ServerSpanType.tp_alloc(&ServerSpanType, 0);
    if (self == NULL) {
        Py_DECREF(attributes);
        Py_DECREF(span);
        return NULL;
    }
    self->span = span;
    self->starter = (Starter *)Py_NewRef(starter);
    self->method = Py_NewRef(method);
    int lean = PyObject_TypeCheck(span, &SpanRecordType);
    if (lean)
        self->attributes = attributes;
    else
        Py_DECREF(attributes);
    char text[32];
    hex_text(ids.trace, 16, text);
    self->trace_id = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, text, 32);
    PyObject *value = self->trace_id ? PyBytes_FromStringAndSize(text, 32) : NULL;
    self->header = value ? PyTuple_Pack(2, header_name, value) : NULL;
    Py_XDECREF(value);
    hex_text(ids.span, 8, text);
    self->span_id = self->header ? PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, text, 16) : NULL;
    if (self->span_id == NULL || (self->token = attach_span(span)) == NULL)
        goto fail;
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
fail_parent:
    Py_DECREF(parent);
    return NULL;
}

static PyObject *
ServerSpan_response_started(ServerSpan *self, PyObject *message)
{
    if (!PyDict_Check(message)) {
        PyErr_SetString(PyExc_TypeError, "message must be a dict");
        return NULL;
    }
    PyObject *status = PyDict_GetItemWithError(message, s_status);
    if (status == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "status");
        return NULL;
    }
    Py_INCREF(status);
    PyObject *old = PyDict_GetItemWithError(message, s_headers);
    PyObject *headers = NULL;
    if (old != NULL)
        headers = PySequence_List(old);
    else if (!PyErr_Occurred())
        headers = PyList_New(0);
    int rc = headers == NULL || PyList_Append(headers, self->header) < 0 ||
                     PyDict_SetItem(message, s_headers, headers) < 0
                 ? -1
                 : 0;
    Py_XDECREF(headers);
    if (rc == 0) {
        if (self->attributes != NULL) {
            rc = PyDict_SetItem(self->attributes, s_status_attr, status);
        }
        else {
            PyObject *r = PyObject_CallMethodObjArgs(self->span, s_set_attribute, s_status_attr,
                                                     status, NULL);
            rc = r == NULL ? -1 : 0;
            Py_XDECREF(r);
        }
    }
    long code = rc == 0 ? PyLong_AsLong(status) : 0;
    Py_DECREF(status);
    if (rc < 0 || (code == -1 && PyErr_Occurred()))
        return NULL;
    if (code >= 500) {
        PyObject *r = PyObject_CallMethodOneArg(self->span, s_set_status, ERROR_STATUS);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

/* "METHOD template", the server span's name (a new reference): remembered per route template
   (the app's routes) for its first `MAX_METHODS` methods (a client chooses the method). */
static PyObject *
span_name(PyObject *method, PyObject *template)
{
    if (span_names == NULL && (span_names = PyDict_New()) == NULL)
        return NULL;
    PyObject *by_method = PyDict_GetItemWithError(span_names, template);
    if (by_method == NULL) {
        if (PyErr_Occurred() || (by_method = PyDict_New()) == NULL)
            return NULL;
        int rc = PyDict_SetItem(span_names, template, by_method);
        Py_DECREF(by_method); /* the cache holds it */
        if (rc < 0)
            return NULL;
    }
    PyObject *name = PyDict_GetItemWithError(by_method, method);
    if (name != NULL)
        return Py_NewRef(name);
    if (PyErr_Occurred() || (name = PyUnicode_FromFormat("%U %U", method, template)) == NULL)
        return NULL;
    if (PyDict_GET_SIZE(by_method) < MAX_METHODS && PyDict_SetItem(by_method, method, name) < 0)
        Py_CLEAR(name);
    return name;
}

static PyObject *
ServerSpan_end(ServerSpan *self, PyObject *scope)
{
    PyObject *span = self->span;
    if (!PyDict_Check(scope)) {
        PyErr_SetString(PyExc_TypeError, "scope must be a dict");
        return NULL;
    }
    /* The matched route's template names the span (low cardinality, for Jaeger's operations). */
    PyObject *route = PyDict_GetItemWithError(scope, s_route);
    PyObject *template = NULL;
    if (route == NULL && PyErr_Occurred())
        return NULL;
    if (route != NULL && GET_OPTIONAL_ATTR(route, s_path, &template) < 0)
        return NULL;
    if (template != NULL && PyUnicode_Check(template)) {
        PyObject *name = span_name(self->method, template);
        int rc = name == NULL ? -1 : 0;
        if (rc == 0 && self->attributes != NULL && is_none(((SpanRecord *)span)->end_time)) {
            set_field(&((SpanRecord *)span)->name, Py_NewRef(name));
            rc = PyDict_SetItem(self->attributes, s_route_attr, template);
        }
        else if (rc == 0) {
            PyObject *r = PyObject_CallMethodOneArg(span, s_update_name, name);
            if (r != NULL) {
                Py_SETREF(r, PyObject_CallMethodObjArgs(span, s_set_attribute, s_route_attr,
                                                        template, NULL));
            }
            rc = r == NULL ? -1 : 0;
            Py_XDECREF(r);
        }
        Py_XDECREF(name);
        if (rc < 0) {
            Py_DECREF(template);
            return NULL;
        }
    }
    Py_XDECREF(template);
    int rc;
    if (PyObject_TypeCheck(span, &SpanRecordType)) {
        rc = span_end((SpanRecord *)span, NULL);
    }
    else {
        PyObject *r = PyObject_CallMethodNoArgs(span, s_end);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
    if (self->token != NULL) {
        PyObject *token = self->token;
        self->token = NULL;
        int detached = detach(token);
        Py_DECREF(token);
        if (detached < 0)
            return NULL;
    }
    if (rc < 0)
        return NULL;
    if (PyObject_TypeCheck(span, &SpanRecordType))
        return Py_NewRef(((SpanRecord *)span)->kept);
    /* A non-recording span: the head decision, from its flags. */
    PyObject *context = PyObject_CallMethodNoArgs(span, s_get_span_context);
    if (context == NULL)
        return NULL;
    PyObject *flags = PyObject_GetAttr(context, s_trace_flags);
    Py_DECREF(context);
    if (flags == NULL)
        return NULL;
    PyObject *sampled = PyObject_GetAttr(flags, s_sampled);
    Py_DECREF(flags);
    return sampled;
}

static PyMethodDef ServerSpan_methods[] = {
    {"response_started", (PyCFunction)ServerSpan_response_started, METH_O,
     "Record the status of an `http.response.start` message and add the trace id header."},
    {"end", (PyCFunction)ServerSpan_end, METH_O,
     "End the span and restore the context from before it; returns whether the trace is "
     "exported."},
    {NULL},
};

static PyMemberDef ServerSpan_members[] = {
    {"span", T_OBJECT, offsetof(ServerSpan, span), READONLY, "The request's server span."},
    {"trace_id", T_OBJECT, offsetof(ServerSpan, trace_id), READONLY, "32 hex digits."},
    {"span_id", T_OBJECT, offsetof(ServerSpan, span_id), READONLY, "16 hex digits."},
    {NULL},
};

static PyTypeObject ServerSpanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracing._hotpath.ServerSpan",
    .tp_doc = "The SERVER span of one HTTP request (tracing.asgi.ServerSpan in C), made by "
              "Starter.server_span(scope).",
    .tp_basicsize = sizeof(ServerSpan),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)ServerSpan_dealloc,
    .tp_traverse = (traverseproc)ServerSpan_traverse,
    .tp_clear = (inquiry)ServerSpan_clear,
    .tp_methods = ServerSpan_methods,
    .tp_members = ServerSpan_members,
};

/* ------------------------------------------------------------------------------------------ */
/* SpanScope: tracing.spans._SpanScope, a span around a block.                                  */

typedef struct {
    PyObject_HEAD
    Starter *starter;
    PyObject *name;
    PyObject *attributes;
    PyObject *client_errors; /* exceptions that are not the span's failure (a tuple) */
    PyObject *record_error;  /* tracing.spans.record_error(exc, span) */
    PyObject *span;
    PyObject *token;
    int current;             /* the span is the active one inside the block */
} SpanScope;

static PyTypeObject SpanScopeType;

static int
SpanScope_traverse(SpanScope *self, visitproc visit, void *arg)
{
    Py_VISIT(self->starter);
    Py_VISIT(self->name);
    Py_VISIT(self->attributes);
    Py_VISIT(self->client_errors);
    Py_VISIT(self->record_error);
    Py_VISIT(self->span);
    Py_VISIT(self->token);
    return 0;
}

static int
SpanScope_clear(SpanScope *self)
{
    Py_CLEAR(self->starter);
    Py_CLEAR(self->name);
    Py_CLEAR(self->attributes);
    Py_CLEAR(self->client_errors);
    Py_CLEAR(self->record_error);
    Py_CLEAR(self->span);
    Py_CLEAR(self->token);
    return 0;
}

static void
SpanScope_dealloc(SpanScope *self)
{
    PyObject_GC_UnTrack(self);
    SpanScope_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Starter.span_scope(name, attributes, client_errors, current, record_error): a span around a
   block, started by the starter when the block is entered. */
static PyObject *
span_scope(PyObject *starter, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "span_scope() takes five positional arguments: name, "
                                         "attributes, client_errors, current, record_error");
        return NULL;
    }
    if (!PyUnicode_Check(args[0]) || !PyDict_Check(args[1]) || !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "span_scope() needs a str name, a dict of attributes and a tuple of "
                        "client errors");
        return NULL;
    }
    int current = PyObject_IsTrue(args[3]);
    if (current < 0)
        return NULL;
    SpanScope *self = (SpanScope *)SpanScopeType.tp_alloc(&SpanScopeType, 0);
    if (self == NULL)
        return NULL;
    self->starter = (Starter *)Py_NewRef(starter);
    self->name = Py_NewRef(args[0]);
    self->attributes = Py_NewRef(args[1]);
    self->client_errors = Py_NewRef(args[2]);
    self->record_error = Py_NewRef(args[4]);
    self->current = current;
    return (PyObject *)self;
}

/* The current span (a new reference): ours read directly, anything else through Python. */
static PyObject *
current_span(void)
{
    PyObject *context, *span = NULL;
    if (PyContextVar_Get(CURRENT, NULL, &context) < 0)
        return NULL;
    if (context != NULL && PyDict_Check(context)) {
        span = PyDict_GetItemWithError(context, SPAN_KEY);
        if (span == NULL && PyErr_Occurred()) {
            Py_DECREF(context);
            return NULL;
        }
    }
    Py_XDECREF(context);
    if (span == NULL)
        return Py_NewRef(INVALID_SPAN);
    if (PyObject_TypeCheck(span, &SpanRecordType))
        return Py_NewRef(span);
    return PyObject_CallNoArgs(CURRENT_SPAN);
}

static PyObject *
SpanScope_enter(SpanScope *self, PyObject *Py_UNUSED(ignored))
{
    if (self->span != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a span scope is entered once");
        return NULL;
    }
    PyObject *parent = current_span();
    if (parent == NULL)
        return NULL;
    PyObject *span = start(self->starter, self->name, INTERNAL_KIND, self->attributes, parent, NULL);
    Py_DECREF(parent);
    if (span == NULL)
        return NULL;
    self->span = span;
    if (self->current && (self->token = attach_span(span)) == NULL)
        return NULL;
    return Py_NewRef(span);
}

static PyObject *
SpanScope_exit(SpanScope *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "__exit__() takes three arguments");
        return NULL;
    }
    PyObject *span = self->span;
    if (span == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a span scope is exited after it is entered");
        return NULL;
    }
    PyObject *exc = args[1];
    int rc = 0;
    if (exc != Py_None) { /* a failure, unless it is a client's error */
        int client = PyObject_IsInstance(exc, self->client_errors);
        if (client < 0) {
            rc = -1;
        }
        else if (!client) {
            PyObject *r = PyObject_CallFunctionObjArgs(self->record_error, exc, span, NULL);
            rc = r == NULL ? -1 : 0;
            Py_XDECREF(r);
        }
    }
    if (self->token != NULL) {
        PyObject *token = self->token;
        self->token = NULL;
        if (detach(token) < 0)
            rc = -1;
        Py_DECREF(token);
    }
    if (PyObject_TypeCheck(span, &SpanRecordType)) {
        if (span_end((SpanRecord *)span, NULL) < 0)
            rc = -1;
    }
    else {
        PyObject *r = PyObject_CallMethodNoArgs(span, s_end);
        if (r == NULL)
            rc = -1;
        Py_XDECREF(r);
    }
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef SpanScope_methods[] = {
    {"__enter__", (PyCFunction)SpanScope_enter, METH_NOARGS, "Start the span."},
    {"__exit__", (PyCFunction)(void (*)(void))SpanScope_exit, METH_FASTCALL,
     "Record a failure (not a client error), restore the context, end the span."},
    {NULL},
};

static PyTypeObject SpanScopeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracing._hotpath.SpanScope",
    .tp_doc = "A span around a block (tracing.spans._SpanScope in C), made by "
              "Starter.span_scope(name, attributes, client_errors, current, record_error).",
    .tp_basicsize = sizeof(SpanScope),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)SpanScope_dealloc,
    .tp_traverse = (traverseproc)SpanScope_traverse,
    .tp_clear = (inquiry)SpanScope_clear,
    .tp_methods = SpanScope_methods,
};

/* ------------------------------------------------------------------------------------------ */

static PyObject *
init(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"span_context", "non_recording_span", "context_type", "invalid_span",
                            "sampled", "not_sampled", "empty_trace_state", "unset_status",
                            "error_code", "sampling_type", "error_status", "server_kind", "internal_kind", "span_key",
                            "current", "current_span", "extract_parent", "detach", NULL};
    PyObject *v[18];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOOOOO!OOOOO!OOO:init", names, &v[0],
                                     &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
                                     &PyType_Type, &v[9], &v[10], &v[11], &v[12], &v[13],
                                     &PyContextVar_Type, &v[14], &v[15], &v[16], &v[17]))
        return NULL;
    PyObject **targets[] = {&SpanContextType, &NonRecordingSpanType, &ContextType, &INVALID_SPAN,
                            &SAMPLED, &NOT_SAMPLED, &EMPTY_TRACE_STATE, &UNSET_STATUS,
                            &ERROR_CODE, (PyObject **)&SamplingType, &ERROR_STATUS, &SERVER_KIND, &INTERNAL_KIND, &SPAN_KEY, &CURRENT,
                            &CURRENT_SPAN, &EXTRACT_PARENT, &DETACH};
    if (!PyType_Check(v[0]) || !PyType_IsSubtype((PyTypeObject *)v[0], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "span_context must be a tuple subclass");
        return NULL;
    }
    for (int i = 0; i < 18; i++)
        Py_XSETREF(*targets[i], Py_NewRef(v[i]));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"init", (PyCFunction)(void (*)(void))init, METH_VARARGS | METH_KEYWORDS,
     "Hand over the OpenTelemetry objects the types use (tracing.hotpath calls it once)."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tracing._hotpath",
    .m_doc = "The lean tracer's per-request work in C (loaded by tracing.hotpath).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
intern(PyObject **target, const char *text)
{
    *target = PyUnicode_InternFromString(text);
    return *target == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__hotpath(void)
{
    if (intern(&s_on_end, "on_end") || intern(&s_keeps, "keeps") ||
        intern(&s_get_span_context, "get_span_context") ||
        intern(&s_set_attribute, "set_attribute") || intern(&s_set_status, "set_status") ||
        intern(&s_update_name, "update_name") || intern(&s_end, "end") ||
        intern(&s_headers, "headers") || intern(&s_method, "method") ||
        intern(&s_path, "path") || intern(&s_scheme, "scheme") || intern(&s_http, "http") ||
        intern(&s_status, "status") || intern(&s_route, "route") ||
        intern(&s_trace_flags, "trace_flags") || intern(&s_sampled, "sampled") ||
        intern(&s_method_attr, "http.request.method") || intern(&s_path_attr, "url.path") ||
        intern(&s_scheme_attr, "url.scheme") ||
        intern(&s_status_attr, "http.response.status_code") ||
        intern(&s_route_attr, "http.route") || intern(&s_status_code, "status_code") ||
        intern(&s_slow_threshold_ns, "slow_threshold_ns") ||
        intern(&s_keep_failed, "keep_failed"))
        return NULL;
    seed_ids();
    if (pthread_atfork(NULL, NULL, seed_ids) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "tracing._hotpath: pthread_atfork failed");
        return NULL;
    }
    if ((header_name = PyBytes_FromString("x-trace-id")) == NULL ||
        (EMPTY_TUPLE = PyTuple_New(0)) == NULL)
        return NULL;
    if (PyType_Ready(&SpanRecordType) < 0 || PyType_Ready(&StarterType) < 0 ||
        PyType_Ready(&ServerSpanType) < 0 || PyType_Ready(&SpanScopeType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "SpanRecord", (PyObject *)&SpanRecordType) < 0 ||
        PyModule_AddObjectRef(m, "Starter", (PyObject *)&StarterType) < 0 ||
        PyModule_AddObjectRef(m, "ServerSpan", (PyObject *)&ServerSpanType) < 0 ||
        PyModule_AddObjectRef(m, "SpanScope", (PyObject *)&SpanScopeType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
