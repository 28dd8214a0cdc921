/*
 * segment_report.c -- the HTML report of a segmentation: one file a
 * marketer can open or mail, with everything inline (CSS and SVG; no
 * script, no font, image or style sheet fetched from anywhere).
 *
 * Layout: a headline of key figures, two horizontal bar charts (customers
 * and revenue per segment, segments in their fixed order, each with its
 * own colour), the Pareto curve, the lifetime value per segment and the
 * histogram of P(alive) (when xs_segment_add_clv gave them, else the
 * reason there are none), then the figures table, the segment table and
 * the loyal customers.  Numbers are printed in the C locale.
 *
 * Client data stays data: the customer ids, the --title and the CLV note
 * (an error message, which may quote a column or item name) are the only
 * strings from outside, and every one goes through esc(), which escapes
 * & < > " ' so that it is text in both element and attribute contexts;
 * everything else written here is a constant or a number.  As a second
 * wall, a Content-Security-Policy meta tag allows no script, no fetch and
 * no form at all (inline style only), so even a missed escape could not
 * run anything when the file is opened.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xsell/segment.h"

/* One readable colour per segment: greens for the best, ambers for those
 * slipping, reds and greys for the lost. */
static const char *const seg_colour[XS_SEG_COUNT] = {
    "#1b7a3e", /* Champions */
    "#2e9e5b", /* Loyal */
    "#6cc08b", /* Potential loyalist */
    "#2f7fc1", /* New */
    "#7fb3e0", /* Promising */
    "#e3b23c", /* Need attention */
    "#f0883e", /* About to sleep */
    "#d9534f", /* At risk */
    "#a4262c", /* Cannot lose them */
    "#8c8c8c", /* Hibernating */
    "#5a5a5a", /* Lost */
};

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void date_of(char *buf, size_t len, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

/* Money with thousands separators and two decimals. */
static void money(char *buf, size_t len, double v)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.2f", fabs(v));
    char *dot = strchr(raw, '.');
    size_t ints = dot ? (size_t)(dot - raw) : strlen(raw), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; raw[i] && o + 2 < len; i++) {
        if (i < ints && i > 0 && (ints - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
}

/* A horizontal bar chart of value[segment]; `fmt_money` prints values as
 * money, else as counts.  total gives the share after each value. */
static void bar_chart(FILE *f, const char *title, const double *value,
                      double total, int fmt_money)
{
    const int w = 720, label_w = 150, bar_w = 400, row = 28, top = 40;
    const int h = top + row * XS_SEG_COUNT + 16;
    double max = 0;
    for (int i = 0; i < XS_SEG_COUNT; i++)
        if (value[i] > max)
            max = value[i];
    fprintf(f, "<svg role=\"img\" "
               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            w, h, w, h);
    fprintf(f, "<title>");
    esc(f, title);
    fprintf(f, "</title>\n<text x=\"0\" y=\"22\" class=\"ct\">");
    esc(f, title);
    fprintf(f, "</text>\n");
    for (int i = 0; i < XS_SEG_COUNT; i++) {
        int y = top + i * row;
        double bw = max > 0 ? value[i] / max * bar_w : 0;
        char num[64];
        if (fmt_money)
            money(num, sizeof num, value[i]);
        else
            snprintf(num, sizeof num, "%.0f", value[i]);
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lb\" "
                   "text-anchor=\"end\">%s</text>\n",
                label_w - 8, y + 18, xs_segment_name(i));
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                   "rx=\"3\" fill=\"%s\"/>\n",
                label_w, y + 4, bw, row - 8, seg_colour[i]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"vl\">%s",
                label_w + bw + 6, y + 18, num);
        if (total > 0)
            fprintf(f, " (%.1f%%)", value[i] / total * 100.0);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
}

static void no_chart(FILE *f, const char *title, const char *why)
{
    fprintf(f, "<svg role=\"img\" "
               "width=\"720\" height=\"80\" viewBox=\"0 0 720 80\">\n"
               "<title>%s</title>\n"
               "<text x=\"0\" y=\"22\" class=\"ct\">%s</text>\n"
               "<text x=\"0\" y=\"56\" class=\"lb\">%s</text>\n</svg>\n",
            title, title, why);
}

#define PALIVE_COLOUR "#6a4c93"

/* Vertical bars: customers per P(alive) bin, 0 to 1 left to right. */
static void palive_chart(FILE *f, const xs_segmentation *s)
{
    const int w = 720, h = 320, l = 60, t = 50, b = 60, pw = 640;
    const int ph = h - t - b, bw = pw / XS_SEG_PALIVE_BINS;
    const char *title = "P(alive): customers by the probability that they "
                        "are still active";
    size_t max = 0, total = 0;
    for (int i = 0; i < XS_SEG_PALIVE_BINS; i++) {
        total += s->p_alive_hist[i];
        if (s->p_alive_hist[i] > max)
            max = s->p_alive_hist[i];
    }
    fprintf(f, "<svg role=\"img\" "
               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
               "<title>%s</title>\n"
               "<text x=\"0\" y=\"22\" class=\"ct\">%s</text>\n",
            w, h, w, h, title, title);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
               "class=\"gr\"/>\n", l, t + ph, l + pw, t + ph);
    fprintf(f, "<g class=\"pa\">\n");
    for (int i = 0; i < XS_SEG_PALIVE_BINS; i++) {
        double bh = max ? (double)s->p_alive_hist[i] / (double)max * ph : 0;
        fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" "
                   "height=\"%.1f\" fill=\"%s\"/>\n",
                l + i * bw + 3, t + ph - bh, bw - 6, bh, PALIVE_COLOUR);
    }
    fprintf(f, "</g>\n");
    for (int i = 0; i < XS_SEG_PALIVE_BINS; i++) {
        double bh = max ? (double)s->p_alive_hist[i] / (double)max * ph : 0;
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"vl\" "
                   "text-anchor=\"middle\">%zu</text>\n",
                l + i * bw + bw / 2, t + ph - bh - 5, s->p_alive_hist[i]);
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\" "
                   "text-anchor=\"middle\">%.1f&ndash;%.1f</text>\n",
                l + i * bw + bw / 2, t + ph + 18,
                (double)i / XS_SEG_PALIVE_BINS,
                (double)(i + 1) / XS_SEG_PALIVE_BINS);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lb\" "
               "text-anchor=\"middle\">P(alive) (BG/NBD), %zu customers"
               "</text>\n</svg>\n", l + pw / 2, h - 14, total);
}

/* The lifetime value section: CLV per segment and P(alive), or why not. */
static void clv_section(FILE *f, const xs_segmentation *s)
{
    char title[160];
    if (!s->has_clv && !s->clv_note[0])
        return;
    fprintf(f, "<h2>Lifetime value and churn risk</h2>\n");
    if (!s->has_clv) {
        fprintf(f, "<p class=\"note\">Lifetime value not computed: ");
        esc(f, s->clv_note);
        fprintf(f, "</p>\n");
        return;
    }
    snprintf(title, sizeof title, "%s per segment, next %d %s",
             s->clv_money ? "Lifetime value" : "Expected purchases",
             s->clv_horizon, s->clv_unit_days == 7 ? "weeks" : "days");
    bar_chart(f, title, s->clv, s->clv_total, s->clv_money);
    fprintf(f, "<p class=\"note\">BG/NBD (purchases and dropout)%s, fitted "
               "on the customers' purchase days up to the reference date, as "
               "<code>xsell clv</code> computes them%s.</p>\n",
            s->clv_money ? " and Gamma-Gamma (spend per purchase)" : "",
            s->clv_money ? "" : "; no prices: CLV counts purchases");
    palive_chart(f, s);
    fprintf(f, "<p class=\"note\">Customers with P(alive) below 0.5 and a "
               "high lifetime value are the win-back candidates.</p>\n");
}

static void pareto_chart(FILE *f, const xs_segmentation *s)
{
    const int w = 720, h = 440, l = 70, r = 30, t = 50, b = 60;
    const int pw = w - l - r, ph = h - t - b;
    const char *title = "Pareto curve: cumulative revenue share by customers "
                        "ranked by spend";
    fprintf(f, "<svg role=\"img\" "
               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
               "<title>%s</title>\n"
               "<text x=\"0\" y=\"22\" class=\"ct\">%s</text>\n",
            w, h, w, h, title, title);
    /* Grid and axes, every 20%. */
    for (int i = 0; i <= 5; i++) {
        double x = l + pw * i / 5.0, y = t + ph - ph * i / 5.0;
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                   "class=\"gr\"/>\n", l, y, l + pw, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                   "class=\"gr\"/>\n", x, t, x, t + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" "
                   "text-anchor=\"middle\">%d%%</text>\n",
                x, t + ph + 18, i * 20);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ax\" "
                   "text-anchor=\"end\">%d%%</text>\n",
                l - 6, y + 4, i * 20);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lb\" text-anchor=\"middle\">"
               "customers, highest spend first (cumulative share)</text>\n",
            l + pw / 2, h - 14);
    fprintf(f, "<text x=\"16\" y=\"%d\" class=\"lb\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 16 %d)\">revenue (cumulative share)"
               "</text>\n", t + ph / 2, t + ph / 2);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
               "class=\"eq\"/>\n", l, t + ph, l + pw, t);
    if (!s->monetary || !(s->total_revenue > 0) || s->n == 0) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lb\">no revenue to "
                   "plot%s</text>\n</svg>\n", l + 20, t + 30,
                s->monetary ? "" : " (monetary value not computed)");
        return;
    }
    /* At most ~1000 points: every step-th customer, and the last. */
    size_t step = s->n / 1000 + 1;
    fprintf(f, "<polyline class=\"pc\" points=\"%d,%d", l, t + ph);
    double cum = 0;
    for (size_t i = 0; i < s->n; i++) {
        cum += s->rows[s->by_value[i]].monetary;
        if ((i + 1) % step == 0 || i + 1 == s->n)
            fprintf(f, " %.1f,%.1f",
                    l + pw * (double)(i + 1) / (double)s->n,
                    t + ph - ph * cum / s->total_revenue);
    }
    fprintf(f, "\"/>\n");
    double mx = l + pw * (double)s->top_n / (double)s->n;
    double my = t + ph - ph * s->top_share;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" "
               "class=\"mk\"/>\n", mx, t + ph, mx, my);
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "class=\"mk\"/>\n", l, my, mx, my);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#a4262c\"/>\n",
            mx, my);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"vl\">top 20%% (%zu "
               "customers): %.1f%% of revenue</text>\n",
            /* below right of the mark: under the (concave) curve */
            mx + 10, my + (my > t + ph - 24 ? -8 : 18), s->top_n,
            s->top_share * 100.0);
    fprintf(f, "</svg>\n");
}

int xs_segment_write_html(const xs_segmentation *s, const xs_dict *customers,
                          const char *title, FILE *f, xs_error *err)
{
    if (!title)
        title = "Customer segments (RFM)";
    char now[32], from[32], to[32], buf[64];
    date_of(now, sizeof now, s->now);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
               "<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" "
               "content=\"default-src 'none'; style-src 'unsafe-inline'; "
               "base-uri 'none'; form-action 'none'\">\n<title>");
    esc(f, title);
    fprintf(f,
            "</title>\n<style>\n"
            "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,"
            "sans-serif;color:#222;margin:32px auto;max-width:820px;"
            "padding:0 16px;line-height:1.45}\n"
            "h1{font-size:26px;margin-bottom:4px}h2{font-size:19px;"
            "margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}\n"
            ".sub{color:#666;margin-top:0}\n"
            ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0}\n"
            ".kpi{flex:1 1 150px;background:#f5f7fa;border-radius:8px;"
            "padding:12px 14px}.kpi b{display:block;font-size:24px;"
            "color:#1b5e8c}.kpi span{color:#555;font-size:13px}\n"
            "table{border-collapse:collapse;width:100%%;font-size:14px}\n"
            "th,td{padding:6px 10px;border-bottom:1px solid #e4e4e4;"
            "text-align:right}th:first-child,td:first-child{text-align:left}\n"
            "th{background:#f0f2f5}\n"
            ".sw{display:inline-block;width:11px;height:11px;border-radius:2px;"
            "margin-right:6px;vertical-align:middle}\n"
            "svg{display:block;margin:12px 0;max-width:100%%;height:auto}\n"
            "svg .ct{font-size:16px;font-weight:600;fill:#222}\n"
            "svg .lb{font-size:13px;fill:#333}svg .vl{font-size:12px;"
            "fill:#222}svg .ax{font-size:11px;fill:#555}\n"
            "svg .gr{stroke:#e6e6e6;stroke-width:1}svg .eq{stroke:#999;"
            "stroke-dasharray:5 4;stroke-width:1}\n"
            "svg .pc{fill:none;stroke:#1b5e8c;stroke-width:2.5}\n"
            "svg .mk{stroke:#a4262c;stroke-dasharray:4 3;stroke-width:1.5}\n"
            ".note{color:#666;font-size:13px}\n"
            "</style>\n</head>\n<body>\n<h1>");
    esc(f, title);
    fprintf(f, "</h1>\n<p class=\"sub\">%zu customers as of %s; R, F%s "
               "scores 1&ndash;%d</p>\n", s->n, now,
            s->monetary ? ", M" : "", s->bins);

    size_t loyal = s->count[XS_SEG_CHAMPIONS] + s->count[XS_SEG_LOYAL];
    fprintf(f, "<div class=\"kpis\">\n<div class=\"kpi\"><b>%zu</b>"
               "<span>customers</span></div>\n", s->n);
    if (s->monetary) {
        money(buf, sizeof buf, s->total_revenue);
        fprintf(f, "<div class=\"kpi\"><b>%s</b><span>revenue</span></div>\n",
                buf);
        if (!isnan(s->top_share))
            fprintf(f, "<div class=\"kpi\"><b>%.1f%%</b><span>of revenue "
                       "from the top 20%% of customers</span></div>\n",
                    s->top_share * 100.0);
    }
    fprintf(f, "<div class=\"kpi\"><b>%zu</b><span>loyal customers "
               "(Champions + Loyal)</span></div>\n", loyal);
    if (s->has_clv) {
        if (s->clv_money)
            money(buf, sizeof buf, s->clv_total);
        else
            snprintf(buf, sizeof buf, "%.0f", s->clv_total);
        fprintf(f, "<div class=\"kpi\"><b>%s</b><span>%s, next %d %s"
                   "</span></div>\n", buf,
                s->clv_money ? "lifetime value" : "expected purchases",
                s->clv_horizon, s->clv_unit_days == 7 ? "weeks" : "days");
    }
    if (s->has_crr) {
        if (isnan(s->crr))
            fprintf(f, "<div class=\"kpi\"><b>n/a</b><span>customer "
                       "retention rate</span></div>\n");
        else
            fprintf(f, "<div class=\"kpi\"><b>%.1f%%</b><span>customer "
                       "retention rate</span></div>\n", s->crr);
    }
    fprintf(f, "</div>\n");

    double counts[XS_SEG_COUNT];
    for (int i = 0; i < XS_SEG_COUNT; i++)
        counts[i] = (double)s->count[i];
    fprintf(f, "<h2>Segments at a glance</h2>\n");
    bar_chart(f, "Customers per segment", counts, (double)s->n, 0);
    if (s->monetary)
        bar_chart(f, "Revenue per segment", s->revenue, s->total_revenue, 1);
    else
        no_chart(f, "Revenue per segment",
                 "Monetary value not computed (--no-monetary).");
    fprintf(f, "<h2>Revenue concentration</h2>\n");
    pareto_chart(f, s);
    fprintf(f, "<p class=\"note\">Customers ranked by spend, highest first. "
               "The dashed diagonal is an even spread; the red mark is the "
               "top 20%% of customers (ceil(0.2 &times; N)).</p>\n");
    clv_section(f, s);

    fprintf(f, "<h2>Summary figures</h2>\n<table>\n"
               "<tr><th>figure</th><th>value</th></tr>\n"
               "<tr><td>customers</td><td>%zu</td></tr>\n"
               "<tr><td>reference date (now)</td><td>%s</td></tr>\n",
            s->n, now);
    if (s->monetary) {
        money(buf, sizeof buf, s->total_revenue);
        fprintf(f, "<tr><td>revenue</td><td>%s</td></tr>\n", buf);
        if (isnan(s->top_share))
            fprintf(f, "<tr><td>revenue share of the top 20%% (%zu "
                       "customers)</td><td>n/a</td></tr>\n", s->top_n);
        else
            fprintf(f, "<tr><td>revenue share of the top 20%% (%zu "
                       "customers)</td><td>%.1f%%</td></tr>\n",
                    s->top_n, s->top_share * 100.0);
    }
    fprintf(f, "<tr><td>loyal customers (Champions + Loyal)</td>"
               "<td>%zu</td></tr>\n", loyal);
    if (s->has_crr) {
        date_of(from, sizeof from, s->period_from);
        date_of(to, sizeof to, s->period_to);
        fprintf(f, "<tr><td>period</td><td>%s to %s</td></tr>\n"
                   "<tr><td>active at the start (S, bought in the %d days "
                   "before)</td><td>%zu</td></tr>\n"
                   "<tr><td>active at the end (E)</td><td>%zu</td></tr>\n"
                   "<tr><td>new in the period (N)</td><td>%zu</td></tr>\n",
                from, to, s->active_days, s->crr_start, s->crr_end,
                s->crr_new);
        if (isnan(s->crr))
            fprintf(f, "<tr><td>customer retention rate (E &minus; N) / S"
                       "</td><td>n/a (S = 0)</td></tr>\n");
        else
            fprintf(f, "<tr><td>customer retention rate (E &minus; N) / S"
                       "</td><td>%.1f%%</td></tr>\n", s->crr);
    }
    fprintf(f, "</table>\n");

    fprintf(f, "<h2>Segments</h2>\n<table>\n<tr><th>segment</th>"
               "<th>customers</th><th>share</th>%s%s</tr>\n",
            s->monetary ? "<th>revenue</th><th>share</th>" : "",
            s->has_clv ? "<th>CLV</th><th>CLV per customer</th>" : "");
    for (int i = 0; i < XS_SEG_COUNT; i++) {
        fprintf(f, "<tr><td><span class=\"sw\" style=\"background:%s\">"
                   "</span>%s</td><td>%zu</td><td>%.1f%%</td>",
                seg_colour[i], xs_segment_name(i), s->count[i],
                s->n ? 100.0 * (double)s->count[i] / (double)s->n : 0.0);
        if (s->monetary) {
            money(buf, sizeof buf, s->revenue[i]);
            fprintf(f, "<td>%s</td><td>%.1f%%</td>", buf,
                    s->total_revenue > 0
                        ? 100.0 * s->revenue[i] / s->total_revenue
                        : 0.0);
        }
        if (s->has_clv) {
            double per = s->count[i] ? s->clv[i] / (double)s->count[i] : 0;
            char buf2[64];
            if (s->clv_money) {
                money(buf, sizeof buf, s->clv[i]);
                money(buf2, sizeof buf2, per);
            } else {
                snprintf(buf, sizeof buf, "%.1f", s->clv[i]);
                snprintf(buf2, sizeof buf2, "%.2f", per);
            }
            fprintf(f, "<td>%s</td><td>%s</td>", buf, buf2);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");

    fprintf(f, "<h2>Loyal customers</h2>\n<p class=\"note\">Champions and "
               "Loyal, in data order%s.</p>\n<p>",
            loyal > 200 ? " (the first 200)" : "");
    size_t shown = 0;
    for (size_t i = 0; i < s->n && shown < 200; i++) {
        int seg = s->rows[i].segment;
        if (seg != XS_SEG_CHAMPIONS && seg != XS_SEG_LOYAL)
            continue;
        if (shown++)
            fputs(", ", f);
        esc(f, xs_dict_name(customers, s->rows[i].customer));
    }
    if (!shown)
        fputs("none", f);
    fprintf(f, "</p>\n</body>\n</html>\n");
    if (ferror(f))
        return xs_error_set(err, XS_ERR_IO, "write error");
    return XS_OK;
}
