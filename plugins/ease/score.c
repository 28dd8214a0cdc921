/*
 * ease/score.c -- answering with a fitted EASE model: recommend() and
 * explain() (the method is in ease/ease.h, "Scoring").
 *
 * The request's x: its items, plus the known customer's history items,
 * each once, as model indices (items the last fit did not see are left
 * out: they have no row in B).  x is gathered in scratch memory with a
 * mark per model item, so a history holding an item many times costs one
 * entry.
 *
 * Dense: score = the sum of x's rows of B, n doubles of scratch, every
 * model item pushed (the host drops x's request items and, by its rules,
 * owned items).  Sparse: the same sum over the rows' kept entries into a
 * zeroed accumulator, pushing only the items some row touched.  Both read
 * the model only, so any number of threads may score at once.
 *
 * Explain recomputes the contributions B_ij of x's items to item j and
 * names the three largest.
 */
#include <string.h>

#include "ease/ease.h"

/* x into xs (model indices); its size.  mark: n bytes of scratch. */
static uint32_t gather(const ease *e, const xs_request *req, xs_result *out,
                       uint32_t **xs_out, const char **why)
{
    const ease_model *m = &e->m;
    const xs_host_api *api = e->api;
    const xs_event *h = NULL;
    size_t nh = 0;
    *why = NULL;
    *xs_out = NULL;
    if (req->customer != XS_NONE &&
        !api->history(e->host, req->customer, &h, &nh))
        nh = 0;
    if (req->n_items == 0 && nh == 0) {
        *why = req->customer == XS_NONE
                   ? "no items and no known customer"
                   : "no items, and the customer has no history";
        return 0;
    }
    uint8_t *mark = api->scratch(out, (size_t)m->n + 1);
    uint32_t *x = api->scratch(out, ((size_t)req->n_items + nh + 1) *
                                        sizeof *x);
    if (!mark || !x)
        return XS_NONE;
    memset(mark, 0, (size_t)m->n + 1);
    uint32_t k = 0;
    for (size_t p = 0; p < req->n_items + nh; p++) {
        uint32_t id = p < req->n_items ? req->items[p]
                                       : h[p - req->n_items].item;
        uint32_t i = id < m->n_ids ? m->index[id] : XS_NONE;
        if (i != XS_NONE && !mark[i]) {
            mark[i] = 1;
            x[k++] = i;
        }
    }
    if (k == 0)
        *why = "none of the request's items or history is in the model "
               "(not seen by the last fit)";
    *xs_out = x;
    return k;
}

int ease_recommend(void *state, const xs_request *req, xs_result *out)
{
    const ease *e = state;
    const ease_model *m = &e->m;
    const xs_host_api *api = e->api;
    if (!e->fitted || m->n == 0) {
        if (XS_HOST_HAS(api, note))
            api->note(out, "no model fitted (no transactions)");
        return 0;
    }
    uint32_t *x;
    const char *why;
    uint32_t k = gather(e, req, out, &x, &why);
    if (k == XS_NONE)
        return -1;
    if (k == 0) {
        if (XS_HOST_HAS(api, note))
            api->note(out, why);
        return 0;
    }
    double *s = api->scratch(out, (size_t)m->n * sizeof *s);
    if (!s)
        return -1;
    memset(s, 0, (size_t)m->n * sizeof *s);
    if (m->dense) {
        for (uint32_t p = 0; p < k; p++) {
            const double *bi = m->b + (size_t)x[p] * m->n;
            for (uint32_t j = 0; j < m->n; j++)
                s[j] += bi[j];
        }
        for (uint32_t j = 0; j < m->n; j++)
            api->push(out, m->ids[j], s[j]);
        return 0;
    }
    uint8_t *seen = api->scratch(out, (size_t)m->n + 1);
    uint32_t *touched = api->scratch(out, (size_t)m->n * sizeof *touched + 1);
    if (!seen || !touched)
        return -1;
    memset(seen, 0, m->n);
    uint32_t nt = 0;
    for (uint32_t p = 0; p < k; p++)
        for (uint64_t q = m->rs[x[p]]; q < m->rs[x[p] + 1]; q++) {
            uint32_t j = m->cols[q];
            s[j] += m->vals[q];
            if (!seen[j]) {
                seen[j] = 1;
                touched[nt++] = j;
            }
        }
    for (uint32_t t = 0; t < nt; t++)
        api->push(out, m->ids[touched[t]], s[touched[t]]);
    return 0;
}

/* B_ij of the model, 0 when not kept. */
static double b_value(const ease_model *m, uint32_t i, uint32_t j)
{
    if (m->dense)
        return m->b[(size_t)i * m->n + j];
    const uint32_t *c = m->cols + m->rs[i];
    uint32_t len = (uint32_t)(m->rs[i + 1] - m->rs[i]);
    uint32_t p = xs_lower_bound(c, len, j);
    return p < len && c[p] == j ? m->vals[m->rs[i] + p] : 0.0;
}

int ease_explain(void *state, const xs_request *req, uint32_t item,
                 xs_evidence *ev)
{
    const ease *e = state;
    const ease_model *m = &e->m;
    const xs_host_api *api = e->api;
    uint32_t j = e->fitted && item < m->n_ids ? m->index[item] : XS_NONE;
    if (j == XS_NONE)
        return 0;
    const xs_event *h = NULL;
    size_t nh = 0;
    if (req->customer != XS_NONE &&
        !api->history(e->host, req->customer, &h, &nh))
        nh = 0;
    static const char *const from_key[3] = {"from", "from_2", "from_3"};
    static const char *const w_key[3] = {"weight", "weight_2", "weight_3"};
    xs_cand best[3];
    uint32_t nb = 0;
    double score = 0;
    for (size_t p = 0; p < req->n_items + nh; p++) {
        uint32_t id = p < req->n_items ? req->items[p]
                                       : h[p - req->n_items].item;
        uint32_t i = id < m->n_ids ? m->index[id] : XS_NONE;
        if (i == XS_NONE)
            continue;
        int dup = 0; /* each item of x once: look back for it */
        for (size_t q = 0; q < p && !dup; q++)
            dup = (q < req->n_items ? req->items[q]
                                    : h[q - req->n_items].item) == id;
        if (dup)
            continue;
        double b = b_value(m, i, j);
        score += b;
        xs_best_offer(best, &nb, 3, (xs_cand){.item = id, .score = b});
    }
    xs_best_sort(best, nb);
    xs_evidence_add(ev, "score", score, NULL);
    for (uint32_t p = 0; p < nb; p++) {
        if (best[p].score <= 0 && p > 0)
            break;
        xs_evidence_add(ev, from_key[p], 0,
                        api->item_name(e->host, best[p].item));
        xs_evidence_add(ev, w_key[p], best[p].score, NULL);
    }
    return 0;
}
