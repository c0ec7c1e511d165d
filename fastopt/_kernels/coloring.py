"""Column grouping (colouring) kernels for sparse finite differences.

The problem: given the sparsity structure of an ``m x n`` Jacobian, split
its columns into as few groups as possible so that no two columns in a
group have a non-zero in the same row (Curtis, Powell & Reid, 1974).  Each
group can then be estimated with one function evaluation.

Coleman & Moré (1983) showed that this is a vertex colouring of the
*column-intersection graph* ``G(A)``: one vertex per column, an edge between
two columns iff they share a row.  No kernel stores the edges of ``G(A)``:
the neighbours of column ``j`` are enumerated as "all columns of all rows
of ``j``" from the CSC structure (column -> rows) and its CSR transpose
(row -> columns).  Doing so for every column costs ``sum_r nnz_r**2``
(``nnz_r``: non-zeros in row ``r``).  Neighbour lists contain repeats,
which are removed with a *mark* array (``mark[k] == j`` means "already
seen while processing ``j``"), so no scratch array needs clearing.

First-fit greedy colouring in a given column order is identical to the CPR
sequential grouping used by SciPy (open group 0, add each column, in order,
that shares no row with the group so far; then open group 1 with the
remaining columns, ...), including the numbering of the groups: CPR rejects
a column from group ``g`` iff an earlier column (in the order) of group
``g`` shares a row with it, which is exactly first-fit's rule.

Two equivalent first-fit implementations are provided:

* :func:`greedy_color_rowmask` keeps, for every row, a bit mask of the
  colours already used in that row; a column's forbidden colours are the OR
  of its rows' masks.  ``O(nnz)`` time, no transpose needed, but only
  colourings with at most 62 colours (it reports an overflow otherwise).
* :func:`greedy_color` is the textbook version with a "forbidden colour"
  mark array over the neighbours, ``O(sum_r nnz_r**2)``, no limit.

Conventions
-----------
* ``indptr`` (int64, ``n + 1``) and ``indices`` (int64, ``nnz``) hold the
  CSC structure.  Repeated entries and any row order within a column are
  tolerated (results then depend on the storage order through
  tie-breaking; the wrapper passes canonical structures).  ``rptr``
  (int64, ``m + 1``) and ``rcol`` (int64, ``nnz``) hold the CSR transpose
  built by :func:`csc_transpose`.
* Colours ("groups") are in the original column numbering: ``colors[j]``
  is the group of column ``j``.
* Orders are int64 permutations of ``range(n)``, validated by the caller.
* Colouring kernels that accept a ``limit`` return ``LIMIT_REACHED`` as
  soon as they would need ``limit`` colours or more (the caller is looking
  for an improvement on a ``limit``-colouring); ``colors`` is then partial.

References
----------
A. R. Curtis, M. J. D. Powell and J. K. Reid, "On the estimation of sparse
Jacobian matrices", J. Inst. Math. Appl. 13 (1974), pp. 117-120.

T. F. Coleman and J. J. Moré, "Estimation of sparse Jacobian matrices and
graph coloring problems", SIAM J. Numer. Anal. 20 (1983), pp. 187-209.

D. W. Matula and L. L. Beck, "Smallest-last ordering and clustering and
graph coloring algorithms", J. ACM 30 (1983), pp. 417-427.

D. Brélaz, "New methods to color the vertices of a graph", Comm. ACM 22
(1979), pp. 251-256.
"""
import numpy as np
from ._jit import kernel

# Codes of the named orderings understood by ``named_order``.
ORDER_NATURAL = 0
ORDER_LARGEST_FIRST = 1
ORDER_SMALLEST_LAST = 2
ORDER_INCIDENCE_DEGREE = 3

# Status codes returned instead of a colour count.
LIMIT_REACHED = -1
MASK_OVERFLOW = -2

# Colours representable in an int64 bit mask (the sign bit is left alone).
MAX_MASK_COLORS = 62


@kernel
def is_canonical_csc(indptr, indices):
    """Whether rows are strictly increasing within every column.

    That is, sorted and free of repeated entries: SciPy's canonical
    format.  (The kernels accept any order, but the tie-breaking of the
    degree-based orders and DSATUR follows the storage order, so the
    wrapper canonicalises to make results depend on the structure only.)
    """
    n = indptr.shape[0] - 1
    for j in range(n):
        for p in range(indptr[j] + 1, indptr[j + 1]):
            if indices[p] <= indices[p - 1]:
                return False
    return True


@kernel
def max_row_count(m, indptr, indices):
    """Largest number of distinct columns with a non-zero in one row.

    The columns of one row are pairwise adjacent in ``G(A)`` (a clique), so
    this is a lower bound on the number of groups.  Repeated entries within
    a column are counted once (``last[r] == j``: row ``r`` already counted
    for column ``j``), so it is exact even on non-canonical input.
    """
    n = indptr.shape[0] - 1
    count = np.zeros(m, dtype=np.int64)
    last = np.full(m, -1, dtype=np.int64)
    best = 0
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            r = indices[p]
            if last[r] == j:
                continue
            last[r] = j
            c = count[r] + 1
            count[r] = c
            if c > best:
                best = c
    return best


@kernel
def csc_transpose(m, indptr, indices):
    """CSR transpose ``(rptr, rcol)`` (row -> columns) by counting sort.

    The columns of each row come out in increasing order.
    """
    n = indptr.shape[0] - 1
    nnz = indices.shape[0]
    rptr = np.zeros(m + 1, dtype=np.int64)
    for p in range(nnz):
        rptr[indices[p] + 1] += 1
    for r in range(m):
        rptr[r + 1] += rptr[r]
    fill = rptr[:m].copy()
    rcol = np.empty(nnz, dtype=np.int64)
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            r = indices[p]
            rcol[fill[r]] = j
            fill[r] += 1
    return rptr, rcol


@kernel
def _row_masks_of(j, indptr, indices, rowmask):
    # OR of the colour masks of column j's rows: the colours j may not take.
    forbidden = np.int64(0)
    for p in range(indptr[j], indptr[j + 1]):
        forbidden |= rowmask[indices[p]]
    return forbidden


@kernel
def _mark_rows(j, c, indptr, indices, rowmask):
    # Record colour c as used in every row of column j.
    bit = np.int64(1) << c
    for p in range(indptr[j], indptr[j + 1]):
        rowmask[indices[p]] |= bit


@kernel
def greedy_color_rowmask(order, indptr, indices, colors, rowmask, limit):
    """First-fit colouring in ``order`` with per-row colour bit masks.

    ``rowmask`` (int64, ``m``) is scratch; ``colors`` (int64, ``n``)
    receives the colours.  Bit ``c`` of ``rowmask[r]`` says colour ``c`` is
    already used in row ``r``, so the colours forbidden for column ``j``
    are the OR of the masks of its rows: ``O(nnz)`` in total.

    Returns the number of colours, ``LIMIT_REACHED`` (see module notes) or
    ``MASK_OVERFLOW`` if more than ``MAX_MASK_COLORS`` colours are needed
    (use :func:`greedy_color` then).
    """
    n = colors.shape[0]
    rowmask[:] = 0
    n_colors = 0
    for t in range(n):
        j = order[t]
        forbidden = _row_masks_of(j, indptr, indices, rowmask)
        c = 0
        while (forbidden >> c) & 1:
            c += 1
        if c >= MAX_MASK_COLORS:
            return MASK_OVERFLOW
        colors[j] = c
        if c >= n_colors:
            n_colors = c + 1
            if n_colors >= limit:
                return LIMIT_REACHED
        _mark_rows(j, c, indptr, indices, rowmask)
    return n_colors


@kernel
def natural_color_and_bound(indptr, indices, m, colors):
    """First-fit in natural order fused with the lower bound.

    Same colouring as :func:`greedy_color_rowmask` with ``order =
    arange(n)``, and counts the distinct columns of every row on the way:
    column ``j``'s colour bit is new to each of its rows, so a row whose
    mask already has the bit is a repeated entry of ``j`` and is not
    counted again.  One pass over the structure instead of two.

    Returns ``(n_colors, max_row_count)``, or ``(MASK_OVERFLOW, -1)``.
    """
    n = indptr.shape[0] - 1
    rowmask = np.zeros(m, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    n_colors = 0
    bound = 0
    for j in range(n):
        forbidden = _row_masks_of(j, indptr, indices, rowmask)
        c = 0
        while (forbidden >> c) & 1:
            c += 1
        if c >= MAX_MASK_COLORS:
            return MASK_OVERFLOW, -1
        colors[j] = c
        if c >= n_colors:
            n_colors = c + 1
        bit = np.int64(1) << c
        for p in range(indptr[j], indptr[j + 1]):
            r = indices[p]
            old = rowmask[r]
            if not old & bit:
                rowmask[r] = old | bit
                k = count[r] + 1
                count[r] = k
                if k > bound:
                    bound = k
    return n_colors, bound


@kernel
def cyclic_color_rowmask(order, indptr, indices, period, colors, rowmask,
                         limit):
    """First-fit with a rotating colour preference ("cyclic first-fit").

    Like :func:`greedy_color_rowmask`, but column ``j`` takes the first
    allowed colour in the cyclic sequence ``s, s + 1, ..., period - 1, 0,
    ..., s - 1``, where ``s`` follows the colour given to the previous
    column; only when all of ``0, ..., period - 1`` are forbidden does it
    take the smallest allowed colour ``>= period``.  The result is a valid
    colouring for any ``period``.  With ``period`` equal to the lower bound
    and the natural order this recovers the periodic ("lattice")
    colourings that are optimal for stencil Jacobians on regular grids
    (e.g. 5 groups for the 5-point Laplacian, 7 for the 7-point one) where
    plain first-fit in any static order needs more, at the ``O(nnz)`` cost
    of one greedy pass.  (A heuristic of this module, not from the
    references.)

    Returns the number of colours, ``LIMIT_REACHED`` or ``MASK_OVERFLOW``.
    """
    n = colors.shape[0]
    if period < 1 or period > MAX_MASK_COLORS:
        return MASK_OVERFLOW
    rowmask[:] = 0
    n_colors = 0
    start = 0
    for t in range(n):
        j = order[t]
        forbidden = _row_masks_of(j, indptr, indices, rowmask)
        c = -1
        for s in range(period):
            cc = start + s
            if cc >= period:
                cc -= period
            if not (forbidden >> cc) & 1:
                c = cc
                break
        if c < 0:
            c = period
            while (forbidden >> c) & 1:
                c += 1
            if c >= MAX_MASK_COLORS:
                return MASK_OVERFLOW
        else:
            start = c + 1 if c + 1 < period else 0
        colors[j] = c
        if c >= n_colors:
            n_colors = c + 1
            if n_colors >= limit:
                return LIMIT_REACHED
        _mark_rows(j, c, indptr, indices, rowmask)
    return n_colors


@kernel
def greedy_color(order, indptr, indices, rptr, rcol, colors, forbidden,
                 limit):
    """First-fit colouring of ``G(A)`` in ``order`` with a mark array.

    Column ``j`` takes the smallest colour not used by an already coloured
    neighbour; the neighbours' colours are marked ``forbidden[c] = j``
    (unique per column, so ``forbidden``, int64 of length ``n``, is
    cleared once per call).  ``colors`` (int64, ``n``) receives the
    colours.  Returns the number of colours or ``LIMIT_REACHED``.
    """
    n = colors.shape[0]
    for j in range(n):
        colors[j] = -1
        forbidden[j] = -1
    n_colors = 0
    for t in range(n):
        j = order[t]
        for p in range(indptr[j], indptr[j + 1]):
            r = indices[p]
            for q in range(rptr[r], rptr[r + 1]):
                c = colors[rcol[q]]
                if c >= 0:
                    forbidden[c] = j
        c = 0
        while forbidden[c] == j:
            c += 1
        colors[j] = c
        if c >= n_colors:
            n_colors = c + 1
            if n_colors >= limit:
                return LIMIT_REACHED
    return n_colors


@kernel
def intersection_degrees(indptr, indices, rptr, rcol):
    """Degree of every column in the column-intersection graph ``G(A)``.

    Two columns are adjacent iff they share a row; a column is not its
    own neighbour.  Cost ``sum_r nnz_r**2``, one mark array of scratch.
    """
    n = indptr.shape[0] - 1
    deg = np.zeros(n, dtype=np.int64)
    mark = np.full(n, -1, dtype=np.int64)
    for j in range(n):
        mark[j] = j
        d = 0
        for p in range(indptr[j], indptr[j + 1]):
            r = indices[p]
            for q in range(rptr[r], rptr[r + 1]):
                k = rcol[q]
                if mark[k] != j:
                    mark[k] = j
                    d += 1
        deg[j] = d
    return deg


@kernel
def _max_value(a):
    best = 0
    for i in range(a.shape[0]):
        if a[i] > best:
            best = a[i]
    return best


@kernel
def largest_first_order(deg):
    """Columns by decreasing degree, ties by increasing index.

    A stable counting sort on the degree: ``O(n + max(deg))``.
    """
    n = deg.shape[0]
    max_deg = _max_value(deg)
    # start[s] = first slot of key s = max_deg - degree.
    start = np.zeros(max_deg + 2, dtype=np.int64)
    for j in range(n):
        start[max_deg - deg[j] + 1] += 1
    for s in range(max_deg + 1):
        start[s + 1] += start[s]
    order = np.empty(n, dtype=np.int64)
    for j in range(n):
        s = max_deg - deg[j]
        order[start[s]] = j
        start[s] += 1
    return order


# Bucket queues: vertex v with key k sits in the doubly linked list starting
# at head[k]; nxt/prv link the lists, -1 terminates them.  Insertion is at
# the head (so the most recently moved vertex is served first).

@kernel
def _bucket_push(head, nxt, prv, k, v):
    h = head[k]
    nxt[v] = h
    prv[v] = -1
    if h >= 0:
        prv[h] = v
    head[k] = v


@kernel
def _bucket_remove(head, nxt, prv, k, v):
    a = prv[v]
    b = nxt[v]
    if a >= 0:
        nxt[a] = b
    else:
        head[k] = b
    if b >= 0:
        prv[b] = a


@kernel
def smallest_last_order(indptr, indices, rptr, rcol, deg):
    """Matula-Beck smallest-last ordering of ``G(A)``.

    Repeatedly remove a vertex of minimum degree in the remaining graph;
    the order is the reverse of the removal sequence.  Vertices sit in a
    bucket queue indexed by current degree; removing a vertex lowers its
    neighbours' degrees by one, so the minimum drops by at most one per
    removal and the queue work is ``O(n + |E|)``, on top of the neighbour
    enumeration (``sum_r nnz_r**2``).  Ties: smallest index first at the
    start, then the most recently updated vertex.
    """
    n = deg.shape[0]
    d = deg.copy()
    head = np.full(_max_value(deg) + 1, -1, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    for j in range(n - 1, -1, -1):
        _bucket_push(head, nxt, prv, d[j], j)
    removed = np.zeros(n, dtype=np.bool_)
    mark = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    min_deg = 0
    for step in range(n):
        while head[min_deg] < 0:
            min_deg += 1
        v = head[min_deg]
        _bucket_remove(head, nxt, prv, min_deg, v)
        removed[v] = True
        order[n - 1 - step] = v
        mark[v] = v
        for p in range(indptr[v], indptr[v + 1]):
            r = indices[p]
            for q in range(rptr[r], rptr[r + 1]):
                u = rcol[q]
                if mark[u] == v:
                    continue
                mark[u] = v
                if removed[u]:
                    continue
                du = d[u]
                _bucket_remove(head, nxt, prv, du, u)
                du -= 1
                d[u] = du
                _bucket_push(head, nxt, prv, du, u)
                if du < min_deg:
                    min_deg = du
    return order


@kernel
def incidence_degree_order(indptr, indices, rptr, rcol, deg):
    """Coleman-Moré incidence-degree ordering of ``G(A)``.

    The next vertex is an unordered vertex with the most already-ordered
    neighbours (its incidence degree).  The first vertex, and ties at the
    start, go to the largest degree (largest-first order); later ties to
    the most recently updated vertex.  Bucket queue on the incidence degree
    with a moving maximum: ``O(n + |E|)`` plus neighbour enumeration.
    """
    n = deg.shape[0]
    inc = np.zeros(n, dtype=np.int64)
    head = np.full(_max_value(deg) + 1, -1, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    lf = largest_first_order(deg)
    for t in range(n - 1, -1, -1):
        _bucket_push(head, nxt, prv, 0, lf[t])
    ordered = np.zeros(n, dtype=np.bool_)
    mark = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    max_inc = 0
    for step in range(n):
        while head[max_inc] < 0:
            max_inc -= 1
        v = head[max_inc]
        _bucket_remove(head, nxt, prv, max_inc, v)
        ordered[v] = True
        order[step] = v
        mark[v] = v
        for p in range(indptr[v], indptr[v + 1]):
            r = indices[p]
            for q in range(rptr[r], rptr[r + 1]):
                u = rcol[q]
                if mark[u] == v:
                    continue
                mark[u] = v
                if ordered[u]:
                    continue
                iu = inc[u]
                _bucket_remove(head, nxt, prv, iu, u)
                iu += 1
                inc[u] = iu
                _bucket_push(head, nxt, prv, iu, u)
                if iu > max_inc:
                    max_inc = iu
    return order


@kernel
def dsatur_color(indptr, indices, rptr, rcol, colors, limit):
    """Brélaz's DSATUR colouring of ``G(A)``.

    The next column to colour is an uncoloured one whose coloured
    neighbours use the most distinct colours (its saturation); it takes
    the smallest colour none of them uses, so the result is the first-fit
    colouring in the order DSATUR visits the columns.  Saturations live in
    a bucket queue.  Ties: smallest index at the start, then the most
    recently updated column.

    Per-column state is packed in one ``(n, 4)`` array -- bit mask of the
    neighbours' colours (so at most ``MAX_MASK_COLORS`` colours, else
    ``MASK_OVERFLOW``), saturation (-1 once coloured), next and previous
    in the bucket list -- so that touching a neighbour costs one cache
    line rather than four: DSATUR visits columns in an order with little
    locality.

    Returns the number of colours, ``LIMIT_REACHED`` or ``MASK_OVERFLOW``.
    """
    n = colors.shape[0]
    MASK, SAT, NXT, PRV = 0, 1, 2, 3
    st = np.zeros((n, 4), dtype=np.int64)
    head = np.full(MAX_MASK_COLORS + 1, -1, dtype=np.int64)
    for j in range(n - 1, -1, -1):
        h = head[0]
        st[j, NXT] = h
        st[j, PRV] = -1
        if h >= 0:
            st[h, PRV] = j
        head[0] = j
    n_colors = 0
    max_sat = 0
    for step in range(n):
        while head[max_sat] < 0:
            max_sat -= 1
        v = head[max_sat]
        h = st[v, NXT]
        head[max_sat] = h
        if h >= 0:
            st[h, PRV] = -1
        used = st[v, MASK]
        c = 0
        while (used >> c) & 1:
            c += 1
        if c >= MAX_MASK_COLORS:
            return MASK_OVERFLOW
        colors[v] = c
        st[v, SAT] = -1
        if c >= n_colors:
            n_colors = c + 1
            if n_colors >= limit:
                return LIMIT_REACHED
        bit = np.int64(1) << c
        for p in range(indptr[v], indptr[v + 1]):
            r = indices[p]
            for q in range(rptr[r], rptr[r + 1]):
                u = rcol[q]
                s = st[u, SAT]
                # Coloured, or already sees colour c (this also makes
                # repeated neighbours harmless).
                if s < 0 or st[u, MASK] & bit:
                    continue
                st[u, MASK] |= bit
                a = st[u, PRV]
                b = st[u, NXT]
                if a >= 0:
                    st[a, NXT] = b
                else:
                    head[s] = b
                if b >= 0:
                    st[b, PRV] = a
                s += 1
                st[u, SAT] = s
                h = head[s]
                st[u, NXT] = h
                st[u, PRV] = -1
                if h >= 0:
                    st[h, PRV] = u
                head[s] = u
                if s > max_sat:
                    max_sat = s
    return n_colors


@kernel
def color_with_order(order, indptr, indices, m):
    """First-fit colouring in an explicit order: ``(colors, n_colors)``.

    Uses the ``O(nnz)`` row-mask version and falls back to the mark-array
    version (which needs the transpose) beyond ``MAX_MASK_COLORS``.
    """
    n = indptr.shape[0] - 1
    colors = np.empty(n, dtype=np.int64)
    rowmask = np.empty(m, dtype=np.int64)
    k = greedy_color_rowmask(order, indptr, indices, colors, rowmask, n + 1)
    if k == MASK_OVERFLOW:
        rptr, rcol = csc_transpose(m, indptr, indices)
        forbidden = np.empty(n, dtype=np.int64)
        k = greedy_color(order, indptr, indices, rptr, rcol, colors,
                         forbidden, n + 1)
    return colors, k


@kernel
def named_order(code, indptr, indices, m):
    """The column order called ``code`` (one of the ``ORDER_*`` codes)."""
    n = indptr.shape[0] - 1
    if code == ORDER_NATURAL:
        return np.arange(n)
    rptr, rcol = csc_transpose(m, indptr, indices)
    deg = intersection_degrees(indptr, indices, rptr, rcol)
    if code == ORDER_LARGEST_FIRST:
        return largest_first_order(deg)
    if code == ORDER_SMALLEST_LAST:
        return smallest_last_order(indptr, indices, rptr, rcol, deg)
    return incidence_degree_order(indptr, indices, rptr, rcol, deg)


@kernel
def _try_order(order, indptr, indices, rptr, rcol, colors, n_colors, trial,
               rowmask, forbidden):
    """Colour in ``order``; keep it in ``colors`` if it beats ``n_colors``."""
    k = greedy_color_rowmask(order, indptr, indices, trial, rowmask,
                             n_colors)
    if k == MASK_OVERFLOW:
        k = greedy_color(order, indptr, indices, rptr, rcol, trial,
                         forbidden, n_colors)
    if k > 0:
        colors[:] = trial
        return k
    return n_colors


@kernel
def color_best(indptr, indices, m, colors):
    """Fewest-colours first-fit colouring over several column orders.

    Candidates, cheapest first: first-fit in natural order (``O(nnz)``,
    optimal on banded structures), cyclic first-fit with period equal to
    the lower bound (``O(nnz)``, optimal on most regular-grid stencils),
    then -- after building the transpose -- DSATUR and first-fit in
    largest-first, smallest-last and incidence-degree orders.  The best
    colouring is kept in ``colors`` (int64, ``n``); the search stops as
    soon as one reaches the lower bound (largest row count), and every
    later candidate gives up as soon as it cannot beat the best so far.

    Returns ``(n_colors, lower_bound)``.  The caller adds SciPy's default
    random order with :func:`improve_with_order` when ``n_colors`` is above
    the bound (that permutation is generated in Python, and only then).
    """
    n = indptr.shape[0] - 1
    if n == 0:
        return 0, 0
    n_colors, lower_bound = natural_color_and_bound(indptr, indices, m,
                                                    colors)
    if n_colors == MASK_OVERFLOW:
        n_colors = n + 1  # not computed yet; done below.
        lower_bound = max_row_count(m, indptr, indices)
    lower_bound = max(lower_bound, 1)
    if n_colors <= lower_bound:
        return n_colors, lower_bound
    rowmask = np.empty(m, dtype=np.int64)
    trial = np.empty(n, dtype=np.int64)
    k = cyclic_color_rowmask(np.arange(n), indptr, indices, lower_bound,
                             trial, rowmask, n_colors)
    if k > 0:
        colors[:] = trial
        n_colors = k
        if n_colors <= lower_bound:
            return n_colors, lower_bound
    rptr, rcol = csc_transpose(m, indptr, indices)
    forbidden = np.empty(n, dtype=np.int64)
    if n_colors > n:
        n_colors = greedy_color(np.arange(n), indptr, indices, rptr, rcol,
                                colors, forbidden, n + 1)
        if n_colors <= lower_bound:
            return n_colors, lower_bound
    k = dsatur_color(indptr, indices, rptr, rcol, trial, n_colors)
    if k > 0:
        colors[:] = trial
        n_colors = k
        if n_colors <= lower_bound:
            return n_colors, lower_bound
    deg = intersection_degrees(indptr, indices, rptr, rcol)
    n_colors = _try_order(largest_first_order(deg), indptr, indices, rptr,
                          rcol, colors, n_colors, trial, rowmask, forbidden)
    if n_colors <= lower_bound:
        return n_colors, lower_bound
    order = smallest_last_order(indptr, indices, rptr, rcol, deg)
    n_colors = _try_order(order, indptr, indices, rptr, rcol, colors,
                          n_colors, trial, rowmask, forbidden)
    if n_colors <= lower_bound:
        return n_colors, lower_bound
    order = incidence_degree_order(indptr, indices, rptr, rcol, deg)
    n_colors = _try_order(order, indptr, indices, rptr, rcol, colors,
                          n_colors, trial, rowmask, forbidden)
    return n_colors, lower_bound


@kernel
def improve_with_order(order, indptr, indices, m, colors, n_colors):
    """Replace ``colors`` by first-fit in ``order`` if that uses fewer.

    Returns the number of colours in ``colors`` afterwards.
    """
    n = indptr.shape[0] - 1
    trial = np.empty(n, dtype=np.int64)
    rowmask = np.empty(m, dtype=np.int64)
    k = greedy_color_rowmask(order, indptr, indices, trial, rowmask,
                             n_colors)
    if k == MASK_OVERFLOW:
        rptr, rcol = csc_transpose(m, indptr, indices)
        forbidden = np.empty(n, dtype=np.int64)
        k = greedy_color(order, indptr, indices, rptr, rcol, trial,
                         forbidden, n_colors)
    if k > 0:
        colors[:] = trial
        return k
    return n_colors
