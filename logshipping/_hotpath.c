/* The log event's per-event check in C: `Redactor.event_hint_free`.
 *
 * Same answer as the pure-Python method it replaces (logshipping.redaction.Redactor's
 * `event_hint_free` method); the redaction tests run against both. The Python loop over an
 * access event's ~25 fields was about a third of the event's cost (~32,000 instructions); this
 * one pass over the dict costs ~9,000. What is rare (a text not seen before, which needs the
 * keyword search) calls back into `Redactor.hint_free`.
 *
 * Built by `hatch_build.py` when the project is installed (`uv sync`); if it cannot be built
 * (no C compiler), `logshipping.redaction` runs the pure-Python method.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *s_hint_free_texts, *s_hint_free;

/* Bytes of the ids and timestamps the product writes on every event (redaction.py's
 * `_MACHINE_BYTES`): no keyword of the inline-credential search can be spelt with them. */
static const char MACHINE_BYTES[] = "0123456789abcdefABCDEF-:.TZ";
static unsigned char machine[128];

static int
machine_made(PyObject *text)
{
    if (!PyUnicode_IS_ASCII(text))
        return 0;
    const unsigned char *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < length; i++) {
        if (!machine[data[i]])
            return 0;
    }
    return 1;
}

/* 1: `text` is in `known` or `redactor.hint_free(text)` is true; 0: not; -1: error. */
static int
text_hint_free(PyObject *redactor, PyObject *known, PyObject *text)
{
    int found = PySet_Contains(known, text);
    if (found != 0)
        return found;
    PyObject *answer = PyObject_CallMethodOneArg(redactor, s_hint_free, text);
    if (answer == NULL)
        return -1;
    int free = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return free;
}

static int
value_hint_free(PyObject *redactor, PyObject *known, PyObject *value)
{
    if (PyUnicode_CheckExact(value)) {
        int found = PySet_Contains(known, value);
        if (found != 0)
            return found;
        if (PyUnicode_READY(value) < 0) /* a string made by a legacy C API (3.11) */
            return -1;
        if (machine_made(value))
            return 1;
        return text_hint_free(redactor, known, value);
    }
    return value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value) ||
           PyFloat_CheckExact(value);
}

static PyObject *
event_hint_free(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "event_hint_free(redactor, event: dict)");
        return NULL;
    }
    PyObject *redactor = args[0], *event = args[1];
    PyObject *known = PyObject_GetAttr(redactor, s_hint_free_texts);
    if (known == NULL)
        return NULL;
    if (!PySet_Check(known)) {
        Py_DECREF(known);
        PyErr_SetString(PyExc_TypeError, "Redactor._hint_free_texts must be a set");
        return NULL;
    }
    int free = 1;
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (free == 1 && PyDict_Next(event, &position, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            free = 0;
            break;
        }
        /* The callback runs Python code: keep both alive whatever it does. */
        Py_INCREF(key);
        Py_INCREF(value);
        free = text_hint_free(redactor, known, key);
        if (free == 1)
            free = value_hint_free(redactor, known, value);
        Py_DECREF(key);
        Py_DECREF(value);
    }
    Py_DECREF(known);
    if (free < 0)
        return NULL;
    return PyBool_FromLong(free);
}

static PyMethodDef module_methods[] = {
    {"event_hint_free", (PyCFunction)(void (*)(void))event_hint_free, METH_FASTCALL,
     "event_hint_free(redactor, event) -> bool: Redactor.event_hint_free in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "logshipping._hotpath",
    "The log event's per-event redaction check in C (see logshipping/redaction.py).",
    -1,
    module_methods,
};

PyMODINIT_FUNC
PyInit__hotpath(void)
{
    for (const char *c = MACHINE_BYTES; *c; c++)
        machine[(unsigned char)*c] = 1;
    s_hint_free_texts = PyUnicode_InternFromString("_hint_free_texts");
    s_hint_free = PyUnicode_InternFromString("hint_free");
    if (s_hint_free_texts == NULL || s_hint_free == NULL)
        return NULL;
    return PyModule_Create(&module_def);
}
