/*
 * xsell/xsell.h -- the library, all of it.  Plugins need only plugin.h.
 */
#ifndef XSELL_H
#define XSELL_H

#define XSELL_VERSION "0.1.0"

#include "catalog.h"
#include "clv.h"
#include "cooc.h"
#include "datadir.h"
#include "dataset.h"
#include "dict.h"
#include "engine.h"
#include "error.h"
#include "eval.h"
#include "gen.h"
#include "itemsets.h"
#include "json.h"
#include "loader.h"
#include "measure.h"
#include "parse.h"
#include "plugin.h"
#include "rules.h"
#include "segment.h"
#include "score.h"
#include "server.h"
#include "topk.h"

#endif
