/* The content-defined chunker of docs/format.md §10.1, as a CPython extension.
 *
 * H_i = Σ_{j=0..63} T[d_{i-j}]·x^j over GF(2)[x] mod x^64 + x^4 + x^3 + x + 1, rolled as
 * H_i = x·H_{i-1} + T[d_i] + U[d_{i-64}] with U[b] = T[b]·x^64; r_i = the first 8 bytes (LE) of
 * AES-128-ECB(P, LE64(H_i) || 0^8). A chunk of length L = i - s + 1 ends at i when L = MAX, or
 * MIN <= L < AVG and r_i & (2^19 - 1) = 0, or AVG <= L < MAX and r_i & (2^15 - 1) = 0.
 *
 * Only positions with MIN <= L < MAX go through AES, in batches of BATCH blocks per
 * EVP_EncryptUpdate. Since MIN >= 64 the window of every such position lies inside its chunk,
 * so the hash is restarted at each chunk (64 bytes before L = MIN) and a cut depends only on the
 * bytes since the previous cut: a caller may rescan the remainder after the last cut together
 * with more data and get the cuts a scan of the whole file gives.
 *
 * A Chunker is immutable once made (T, U and P are set in tp_new, there is no __init__); each
 * cuts() call has its own cipher context and buffers, and scans without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SIZE ((size_t)32 * 1024)
#define AVG_SIZE ((size_t)128 * 1024)
#define MAX_SIZE ((size_t)512 * 1024)
#define WINDOW ((size_t)64)
#define HARD_MASK ((UINT64_C(1) << 19) - 1)
#define EASY_MASK ((UINT64_C(1) << 15) - 1)
#define TABLE_BYTES 2048
#define KEY_BYTES 16
#define BLOCK 16
#define BATCH 4096

typedef struct {
    PyObject_HEAD
    uint64_t table[256]; /* T */
    uint64_t leave[256]; /* U[b] = T[b]·x^64 mod p */
    unsigned char key[KEY_BYTES];
} ChunkerObject;

typedef struct {
    EVP_CIPHER_CTX *ctx;
    unsigned char *in;  /* BATCH blocks LE64(H) || 0^8 */
    unsigned char *out; /* their encryptions */
} Scan;

static inline uint64_t times_x(uint64_t h) {
    return (h << 1) ^ ((UINT64_C(0) - (h >> 63)) & UINT64_C(0x1B));
}

/* Written out byte by byte, which compilers turn into one load or store on little-endian. */
static inline uint64_t load_le64(const unsigned char *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store_le64(unsigned char *p, uint64_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
    p[4] = (unsigned char)(v >> 32);
    p[5] = (unsigned char)(v >> 40);
    p[6] = (unsigned char)(v >> 48);
    p[7] = (unsigned char)(v >> 56);
}

/* The length of the chunk at the start of p (avail bytes), 0 if it is not complete within them,
 * or (size_t)-1 if the cipher failed. */
static size_t next_cut(const ChunkerObject *self, Scan *scan, const unsigned char *p,
                       size_t avail) {
    if (avail < MIN_SIZE) return 0;
    /* Positions k (L = k + 1) from MIN - 1 to last inclusive are tested through AES. */
    size_t last = avail >= MAX_SIZE ? MAX_SIZE - 2 : avail - 1;
    /* The hash of the 64 bytes before position MIN - 1 (L = MIN); rolling in that position
     * takes the oldest of them out again, leaving exactly the window of L = MIN. */
    uint64_t h = 0;
    for (size_t k = MIN_SIZE - WINDOW - 1; k < MIN_SIZE - 1; k++)
        h = times_x(h) ^ self->table[p[k]];
    size_t k = MIN_SIZE - 1;
    while (k <= last) {
        size_t count = last - k + 1 < BATCH ? last - k + 1 : BATCH;
        for (size_t j = 0; j < count; j++) {
            size_t pos = k + j;
            h = times_x(h) ^ self->table[p[pos]] ^ self->leave[p[pos - WINDOW]];
            store_le64(scan->in + j * BLOCK, h);
        }
        int outl = 0;
        if (EVP_EncryptUpdate(scan->ctx, scan->out, &outl, scan->in, (int)(count * BLOCK)) != 1 ||
            (size_t)outl != count * BLOCK)
            return (size_t)-1;
        for (size_t j = 0; j < count; j++) {
            size_t length = k + j + 1;
            uint64_t mask = length < AVG_SIZE ? HARD_MASK : EASY_MASK;
            if ((load_le64(scan->out + j * BLOCK) & mask) == 0) return length;
        }
        k += count;
    }
    return avail >= MAX_SIZE ? MAX_SIZE : 0;
}

/* Fills cuts (room for n / MIN entries) and returns how many, or -1 if the cipher failed. */
static Py_ssize_t scan_all(const ChunkerObject *self, Scan *scan, const unsigned char *data,
                           size_t n, size_t *cuts) {
    size_t start = 0;
    Py_ssize_t found = 0;
    for (;;) {
        size_t length = next_cut(self, scan, data + start, n - start);
        if (length == (size_t)-1) return -1;
        if (length == 0) return found;
        start += length;
        cuts[found++] = start;
    }
}

static PyObject *chunker_cuts(PyObject *op, PyObject *arg) {
    ChunkerObject *self = (ChunkerObject *)op;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return NULL;
    size_t n = (size_t)view.len;
    size_t *cuts = PyMem_RawMalloc((n / MIN_SIZE + 1) * sizeof(size_t));
    Scan scan = {EVP_CIPHER_CTX_new(), PyMem_RawCalloc(BATCH, BLOCK), PyMem_RawMalloc(BATCH * BLOCK)};
    PyObject *result = NULL;
    if (cuts == NULL || scan.ctx == NULL || scan.in == NULL || scan.out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (EVP_EncryptInit_ex(scan.ctx, EVP_aes_128_ecb(), NULL, self->key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(scan.ctx, 0) != 1) {
        PyErr_SetString(PyExc_RuntimeError, "chunker: AES-128-ECB is not available");
        goto done;
    }
    Py_ssize_t found;
    Py_BEGIN_ALLOW_THREADS
    found = scan_all(self, &scan, (const unsigned char *)view.buf, n, cuts);
    Py_END_ALLOW_THREADS
    if (found < 0) {
        PyErr_SetString(PyExc_RuntimeError, "chunker: AES-128-ECB failed");
        goto done;
    }
    result = PyList_New(found);
    for (Py_ssize_t k = 0; result != NULL && k < found; k++) {
        PyObject *offset = PyLong_FromSize_t(cuts[k]);
        if (offset == NULL) Py_CLEAR(result);
        else PyList_SET_ITEM(result, k, offset);
    }
done:
    EVP_CIPHER_CTX_free(scan.ctx);
    PyMem_RawFree(scan.in);
    PyMem_RawFree(scan.out);
    PyMem_RawFree(cuts);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *chunker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"table", "prf_key", NULL};
    Py_buffer table, key;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*:Chunker", keywords, &table, &key))
        return NULL;
    ChunkerObject *self = NULL;
    if (table.len != TABLE_BYTES || key.len != KEY_BYTES) {
        PyErr_SetString(PyExc_ValueError, "Chunker: the table is 2048 bytes, the PRF key 16");
        goto done;
    }
    self = (ChunkerObject *)type->tp_alloc(type, 0);
    if (self == NULL) goto done;
    const unsigned char *bytes = table.buf;
    for (int b = 0; b < 256; b++) {
        uint64_t t = load_le64(bytes + 8 * b), u = t;
        for (size_t k = 0; k < WINDOW; k++) u = times_x(u);
        self->table[b] = t;
        self->leave[b] = u;
    }
    memcpy(self->key, key.buf, KEY_BYTES);
done:
    PyBuffer_Release(&table);
    PyBuffer_Release(&key);
    return (PyObject *)self;
}

static void chunker_dealloc(PyObject *op) {
    ChunkerObject *self = (ChunkerObject *)op;
    OPENSSL_cleanse(self->table, sizeof self->table);
    OPENSSL_cleanse(self->leave, sizeof self->leave);
    OPENSSL_cleanse(self->key, sizeof self->key);
    Py_TYPE(op)->tp_free(op);
}

static PyMethodDef chunker_methods[] = {
    {"cuts", chunker_cuts, METH_O,
     "cuts(buf) -> list[int]: the end offsets of the complete chunks of buf, scanning from 0."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ChunkerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "strongroom.crypto._chunker.Chunker",
    .tp_basicsize = sizeof(ChunkerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Chunker(table, prf_key): the keyed chunker of docs/format.md §10.1.",
    .tp_new = chunker_new,
    .tp_dealloc = chunker_dealloc,
    .tp_methods = chunker_methods,
};

static struct PyModuleDef chunker_module = {
    PyModuleDef_HEAD_INIT, "strongroom.crypto._chunker",
    "The keyed content-defined chunker of docs/format.md §10.1 (AES through libcrypto).", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__chunker(void) {
    if (PyType_Ready(&ChunkerType) < 0) return NULL;
    PyObject *module = PyModule_Create(&chunker_module);
    if (module == NULL) return NULL;
    if (PyModule_AddIntConstant(module, "MIN", (long)MIN_SIZE) < 0 ||
        PyModule_AddIntConstant(module, "AVG", (long)AVG_SIZE) < 0 ||
        PyModule_AddIntConstant(module, "MAX", (long)MAX_SIZE) < 0 ||
        PyModule_AddObjectRef(module, "Chunker", (PyObject *)&ChunkerType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
