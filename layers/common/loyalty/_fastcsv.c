/* Optional accelerator for loyalty.csvio: split quote-free CSV text straight into columns.
 *
 * split_columns(text, delim, width, canon) -> list of `width` lists of str, or None
 *
 *   text   a str of whole lines, each ending in "\n", with no '"' and no "\r" (the caller checks)
 *   delim  a one-character str
 *   width  the number of fields every line must have
 *   canon  a sequence of `width` items: a dict for a column whose values repeat (each value is
 *          replaced by the first equal string the dict has seen, so a block holds one object per
 *          distinct value instead of one per row), or None
 *
 * Returns None (and builds nothing) when a line has another number of fields or the text is not
 * one byte per character; the caller then takes the pure-Python path, which gives the same
 * columns (a property test holds the two to it). No per-row Python objects besides the fields.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *
make_field(const Py_UCS1 *start, Py_ssize_t len, int ascii)
{
    if (ascii) {
        PyObject *s = PyUnicode_New(len, 127);
        if (s != NULL && len) {
            memcpy(PyUnicode_1BYTE_DATA(s), start, (size_t)len);
        }
        return s;
    }
    return PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, start, len);
}

static PyObject *
split_columns(PyObject *self, PyObject *args)
{
    PyObject *text, *delim_obj, *canon_arg;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "UUnO:split_columns", &text, &delim_obj, &width, &canon_arg)) {
        return NULL;
    }
    if (width < 1 || PyUnicode_GET_LENGTH(delim_obj) != 1) {
        PyErr_SetString(PyExc_ValueError, "width must be >= 1 and delim one character");
        return NULL;
    }
    Py_UCS4 d = PyUnicode_READ_CHAR(delim_obj, 0);
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || d > 0x7f || d == '\n') {
        Py_RETURN_NONE;
    }
    const Py_UCS1 delim = (Py_UCS1)d;
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int ascii = PyUnicode_IS_ASCII(text);
    if (n == 0 || data[n - 1] != '\n') {
        Py_RETURN_NONE;
    }

    PyObject *canon = PySequence_Fast(canon_arg, "canon must be a sequence");
    if (canon == NULL) {
        return NULL;
    }
    if (PySequence_Fast_GET_SIZE(canon) != width) {
        Py_DECREF(canon);
        PyErr_SetString(PyExc_ValueError, "canon must have one item per column");
        return NULL;
    }
    PyObject **dicts = PySequence_Fast_ITEMS(canon);
    for (Py_ssize_t k = 0; k < width; k++) {
        if (dicts[k] != Py_None && !PyDict_CheckExact(dicts[k])) {
            Py_DECREF(canon);
            PyErr_SetString(PyExc_TypeError, "canon items must be dict or None");
            return NULL;
        }
    }

    /* count lines and check the shape: width - 1 delimiters on every line */
    Py_ssize_t rows = 0, fields = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = data[i];
        if (c == delim) {
            fields++;
        }
        else if (c == '\n') {
            if (fields != width - 1) {
                Py_DECREF(canon);
                Py_RETURN_NONE;
            }
            fields = 0;
            rows++;
        }
    }

    PyObject *cols = PyList_New(width);
    if (cols == NULL) {
        Py_DECREF(canon);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < width; k++) {
        PyObject *col = PyList_New(rows);
        if (col == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(cols, k, col);
    }

    const Py_UCS1 *p = data;
    for (Py_ssize_t r = 0; r < rows; r++) {
        for (Py_ssize_t k = 0; k < width; k++) {
            const Py_UCS1 stop = (k == width - 1) ? '\n' : delim;
            const Py_UCS1 *q = p;
            while (*q != stop) {
                q++;
            }
            PyObject *field = make_field(p, q - p, ascii);
            if (field == NULL) {
                goto fail;
            }
            if (dicts[k] != Py_None) {
                PyObject *same = PyDict_SetDefault(dicts[k], field, field); /* borrowed */
                if (same == NULL) {
                    Py_DECREF(field);
                    goto fail;
                }
                Py_INCREF(same);
                Py_DECREF(field);
                field = same;
            }
            PyList_SET_ITEM(PyList_GET_ITEM(cols, k), r, field);
            p = q + 1;
        }
    }
    Py_DECREF(canon);
    return cols;

fail:
    Py_DECREF(canon);
    Py_DECREF(cols); /* unset list items are NULL, which list dealloc skips */
    return NULL;
}

static PyMethodDef methods[] = {
    {"split_columns", split_columns, METH_VARARGS,
     "split_columns(text, delim, width, canon) -> list[list[str]] | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastcsv", "Optional C accelerator for loyalty.csvio.", -1, methods,
};

PyMODINIT_FUNC
PyInit__fastcsv(void)
{
    return PyModule_Create(&module);
}
