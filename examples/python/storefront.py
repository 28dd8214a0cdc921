#!/usr/bin/python3
"""storefront.py -- an online shop talking to an xsell server.

Three pages of a storefront, each one request (see docs/protocol.md):

  1. product page   "customers who also bought" items for one product
  2. basket page    items for the whole basket, minus what is already in it
  3. checkout       the order (and another shopper's order of the same
                    product) is ingested, then the product page is asked
                    again: the orders count at once

Uses the xsell package (clients/python: `import xsell`), installed or, when
it is not, from the source tree beside this file; that needs only Debian's
python3-zmq and python3-msgpack:

  build/bin/xsell serve --events examples/data/events.csv \\
      --catalog examples/data/catalog.csv &
  /usr/bin/python3 examples/python/storefront.py --catalog examples/data/catalog.csv

Against a CURVE server (`xsell serve --curve-key server.key --clients DIR`),
give the server's public key and this client's secret key, made with
`xsell keygen` (the client's .pub must be in DIR/write: the checkout ingests):

  /usr/bin/python3 examples/python/storefront.py --catalog examples/data/catalog.csv \
      --curve-server-key server.pub --curve-key shop.key

Exit status: 0 ok, 1 an error reply, no reply in time or a bad key file,
2 usage error.
"""
import argparse
import csv
import os
import sys
import time

try:
    import xsell
except ImportError:  # not installed: the package beside this example, in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    os.pardir, os.pardir, "clients", "python", "src"))
    import xsell

SHOPPER = "C001462"  # the signed-in customer
OTHER_SHOPPER = "C000007"  # another customer, checking out the same product
NEW_PREFIX = "PNEW-"  # products launched by the checkout step


def load_catalog(path):
    """{item: (title, price)} from a catalog CSV (item,category,price[,...,title])."""
    catalog = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.DictReader(f)
        if "item" not in (rows.fieldnames or []):
            raise ValueError("no item column")
        for row in rows:
            price = row.get("price")
            catalog[row["item"]] = (row.get("title") or row["item"],
                                    float(price) if price else None)
    return catalog


def main():
    ap = argparse.ArgumentParser(description="A storefront asking xsell for recommendations.")
    ap.add_argument("--connect", default="tcp://127.0.0.1:5555", metavar="ENDPOINT",
                    help="the xsell server (default %(default)s)")
    ap.add_argument("--catalog", metavar="FILE", help="catalog CSV, to print titles")
    ap.add_argument("--product", default="P000030", metavar="ID",
                    help="the product page (default %(default)s)")
    ap.add_argument("--k", type=int, default=5, help="items per list (default %(default)s)")
    ap.add_argument("--timeout-ms", type=int, default=5000, metavar="N",
                    help="give up after N ms without a reply (default %(default)s)")
    ap.add_argument("--curve-server-key", metavar="FILE",
                    help="the server's public key (.pub, from `xsell keygen`): talk CURVE")
    ap.add_argument("--curve-key", metavar="FILE",
                    help="this client's secret key (.key, mode 600), with --curve-server-key")
    args = ap.parse_args()
    if not 1 <= args.timeout_ms <= 3600000:
        ap.error("--timeout-ms: want 1..3600000")
    if (args.curve_server_key is None) != (args.curve_key is None):
        ap.error("--curve-server-key and --curve-key go together")

    keys = {}
    if args.curve_key is not None:
        for name, path, secret in (("server_key", args.curve_server_key, False),
                                   ("secret_key", args.curve_key, True)):
            try:
                keys[name] = xsell.read_key(path, secret)
            except OSError as e:
                print(f"storefront: {path}: {e.strerror}", file=sys.stderr)
                return 1
            except ValueError as e:  # the message names the file
                print(f"storefront: {e}", file=sys.stderr)
                return 1

    try:
        catalog = load_catalog(args.catalog) if args.catalog else {}
    except (OSError, ValueError) as e:
        print(f"storefront: {args.catalog}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 1

    def name(item):
        return f"{item}  {catalog[item][0]}" if item in catalog else item

    def price(item):
        known = catalog.get(item, (None, None))[1]
        return known if known is not None else 24.90

    def show(items):
        if not items:
            print("   (nothing yet)")
        for rank, r in enumerate(items, 1):
            why = ""
            if "count" in r:  # evidence, with explain=True (copurchase's fields)
                orders = "order" if r["count"] == 1 else "orders"
                why = f"  (together in {r['count']:g} {orders}, confidence {r['confidence']:.0%})"
            print(f"   {rank}. {name(r['item']):<28} score {r['score']:7.2f}{why}")

    try:
        with xsell.Client(args.connect, args.timeout_ms / 1000, **keys) as xs:
            # 1. Product page: "customers who also bought".
            print(f"1. Product page: {name(args.product)}")
            page = xs.recommend([args.product], k=args.k, explain=True)
            if page.get("unknown"):
                print(f"   (the server does not know {args.product} yet)")
            print("   Customers who bought this also bought:")
            show(page["items"])

            # 2. Basket page: the shopper took the product and the first
            # suggestion (skipping new products from earlier runs of this demo).
            basket = [args.product] + [r["item"] for r in page["items"]
                                       if not r["item"].startswith(NEW_PREFIX)][:1]
            print(f"\n2. Basket page: {', '.join(basket)}")
            # Basket items are never returned anyway; exclude is where a shop
            # would also list what the shopper already owns or is out of stock.
            recs = xs.recommend(basket, exclude=basket, k=args.k, customer=SHOPPER)
            print("   You may also like:")
            show(recs["items"])

            # 3. Checkout: the basket plus a product launched today, which no
            # order has ever held (new ids on every run), and a second order
            # of the product with it from another shopper: a pair seen in one
            # order is not evidence enough to recommend (copurchase's
            # min_count, 2 by default), two are.  No "ts": an event without
            # one weighs like the newest data.
            now = int(time.time())
            order, new_item = f"WEB-{now}-{os.getpid()}", f"{NEW_PREFIX}{now}-{os.getpid()}"
            order2 = order + "-2"
            events = [{"customer": SHOPPER, "item": item, "qty": 1, "price": price(item),
                       "order": order}
                      for item in basket + [new_item]]
            events += [{"customer": OTHER_SHOPPER, "item": item, "qty": 1,
                        "price": price(item), "order": order2}
                       for item in (args.product, new_item)]
            reply = xs.ingest(events)
            print(f"\n3. Checkout: order {order} ({', '.join(basket + [new_item])})"
                  f" and {order2} ({args.product}, {new_item}):"
                  f" {reply['accepted']} events ingested")
            page = xs.recommend([args.product], k=args.k, explain=True)
            print(f"   Customers who bought {args.product} also bought:")
            show(page["items"])
            ranks = [r["item"] for r in page["items"]]
            if new_item in ranks:
                print(f"   -> {new_item} is now #{ranks.index(new_item) + 1}:"
                      f" the orders count at once")
            else:
                print(f"   -> {new_item} is not in the top {args.k}")
    except xsell.ServerError as e:
        print(f"storefront: {e.code}: {e.message}", file=sys.stderr)
        return 1
    except xsell.Error as e:  # Timeout (its text starts "timeout:"), ProtocolError
        print(f"storefront: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
