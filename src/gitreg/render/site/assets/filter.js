/* The --filter language of `gitreg list`, in the browser: a port of gitreg/model/query.py
 * (grammar, semantics over one flat record) and of gitreg/model/search.py (a model matches
 * when the expression holds for it with one of its versions; unknown keys are an error),
 * over the records the index page embeds (render/site/index.py `search_index`).
 * tests/test_site_filter.py runs it in Chromium and compares with `gitreg list --filter`.
 *   gitregFilter.parse(text) -> expr (throws QueryError {message, pos, hint})
 *   gitregFilter.index(embedded) -> {models: [{name, alone, rows}], ...}
 *   gitregFilter.search(expr, index) -> one boolean per model (throws UsageError)
 */
(function (global) {
  "use strict";
  // The field table and limits come from the page (index.py search_index "grammar", from
  // model/query.py grammar_tables); `index` sets them, so it runs before `parse`.
  var FIELDS = null, PREFIXES = [], VALID = "", MAX_DEPTH = 0, KEYWORDS = {};
  function configure(grammar) {
    FIELDS = grammar.fields;
    PREFIXES = grammar.prefixes;
    VALID = grammar.valid;
    MAX_DEPTH = grammar.max_depth;
    KEYWORDS = {};
    grammar.keywords.forEach(function (k) { KEYWORDS[k] = 1; });
  }
  var ORDER = {
    "=": function (a, b) { return a === b; },
    "<": function (a, b) { return a < b; },
    "<=": function (a, b) { return a <= b; },
    ">": function (a, b) { return a > b; },
    ">=": function (a, b) { return a >= b; }
  };
  var W = "\\p{L}\\p{N}_";  // Python's \w on text
  var NUMBER = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;
  var TOKEN = new RegExp(
    "\\s*(?:('(?:[^'\\\\]|\\\\[\\s\\S]|'')*'(?!')|\"(?:[^\"\\\\]|\\\\[\\s\\S]|\"\")*\"(?!\"))" +
    "|([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)(?![" + W + ".`])" +
    "|((?:[\\p{L}\\p{Nl}\\p{No}_]|`[^`]*`)(?:[" + W + ".\\-/:]|`[^`]*`|(?<=\\.)\"[^\"]*\")*)" +
    "|([=!<>~]+)|([(),])|($))", "uy");
  var KINDS = [null, "str", "num", "ident", "op", "punct", "end"];

  function QueryError(text, pos, message, hint) {
    this.text = text; this.pos = pos; this.message = message; this.hint = hint || null;
  }
  QueryError.prototype.toString = function () {
    return "column " + (this.pos + 1) + ": " + this.message + (this.hint ? " (" + this.hint + ")" : "");
  };
  /* A filter that parses but names a key no record has (search.py check_fields) */
  function UsageError(message, hint) { this.message = message; this.hint = hint || null; }
  UsageError.prototype.toString = function () {
    return this.message + (this.hint ? " (" + this.hint + ")" : "");
  };
  /* Python's repr of a str, for the messages search.py words with {name!r} */
  function pyRepr(s) {
    var q = s.indexOf("'") >= 0 && s.indexOf('"') < 0 ? '"' : "'";
    var body = s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  }

  function number(x) {
    if (typeof x === "number") return x;
    if (typeof x === "string" && NUMBER.test(x)) return parseFloat(x);
    return null;
  }
  function text(x) { return typeof x === "boolean" ? (x ? "true" : "false") : String(x); }
  function chars(s) { return Array.from(s); }

  /* SemVer 2.0 order, as gitreg/model/semver.py */
  var SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
  function semverKey(v) {
    var m = SEMVER.exec(v);
    var pre = m[4] ? m[4].split(".") : [];
    return [parseInt(m[1], 10), parseInt(m[2], 10), parseInt(m[3], 10), pre.length ? 0 : 1,
      pre.map(function (p) { return /^\d+$/.test(p) ? [0, parseInt(p, 10)] : [1, p]; })];
  }
  function cmp(a, b) {
    if (Array.isArray(a)) {
      for (var i = 0; i < Math.min(a.length, b.length); i++) {
        var c = cmp(a[i], b[i]);
        if (c) return c;
      }
      return a.length - b.length;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function semverOrder(op, a, b) {
    var c = cmp(semverKey(a), semverKey(b));
    return ORDER[op](c, 0);
  }
  global.gitregSemverCompare = function (a, b) {
    var sa = SEMVER.test(a), sb = SEMVER.test(b);
    if (sa && sb) return cmp(semverKey(a), semverKey(b));
    return sa ? 1 : sb ? -1 : cmp(a, b);
  };

  function compare(field, item, op, v) {
    if (op === "IN") op = "=";
    if (field.indexOf("metrics.") === 0) {
      if (typeof item !== "number" || v.number === null) return null;
      return ORDER[op](item, v.number);
    }
    var a = number(item);
    if (field.indexOf("params.") === 0 && a !== null && v.number !== null) return ORDER[op](a, v.number);
    var t = text(item);
    if ((field === "version" || field === "latest") && op !== "=" && SEMVER.test(t) && SEMVER.test(v.text)) {
      return semverOrder(op, t, v.text);
    }
    return ORDER[op](t, v.text);
  }

  /* LIKE: % any run (null), _ one character (""), anything else one literal character */
  function Like(atoms, ignoreCase) { this.atoms = atoms; this.ignoreCase = ignoreCase; }
  Like.prototype.fullmatch = function (s) {
    var fold = this.ignoreCase ? function (x) { return x.toLowerCase(); } : function (x) { return x; };
    var atoms = [];
    this.atoms.forEach(function (a) { if (!a) atoms.push(a); else chars(fold(a)).forEach(function (c) { atoms.push(c); }); });
    var t = chars(fold(s));
    var i = 0, j = 0, star = -1, mark = 0;
    while (i < t.length) {
      if (j < atoms.length && atoms[j] !== null && (atoms[j] === "" || atoms[j] === t[i])) { i++; j++; }
      else if (j < atoms.length && atoms[j] === null) { star = j; mark = i; j++; }
      else if (star >= 0) { mark++; i = mark; j = star + 1; }
      else return false;
    }
    for (; j < atoms.length; j++) if (atoms[j] !== null) return false;
    return true;
  };
  function like(pattern, ignoreCase) {
    var parts = pattern.match(/\\[\s\S]|[\s\S]/gu) || [];
    return new Like(parts.map(function (p) {
      if (p === "%") return null;
      if (p === "_") return "";
      var cs = chars(p);
      return cs[cs.length - 1];
    }), ignoreCase);
  }

  function Compare(field, op, values, negate, pattern) {
    this.field = field; this.op = op; this.values = values; this.negate = negate; this.pattern = pattern;
  }
  Compare.prototype.test = function (item) {
    if (this.pattern) return this.pattern.fullmatch(text(item));
    var self = this, results = this.values.map(function (v) { return compare(self.field, item, self.op, v); });
    if (results.every(function (r) { return r === null; })) return null;
    return results.some(function (r) { return r === true; });
  };
  Compare.prototype.matches = function (record) {
    var value = Object.prototype.hasOwnProperty.call(record, this.field) ? record[this.field] : null;
    if (this.op === "NULL") {
      return (value === null || value === undefined || (Array.isArray(value) && !value.length)) !== this.negate;
    }
    if (value === null || value === undefined) return false;
    var self = this;
    if (Array.isArray(value)) return value.some(function (x) { return self.test(x) === true; }) !== this.negate;
    var r = this.test(value);
    return r !== null && r !== this.negate;
  };
  Compare.prototype.fields = function () { return [this.field]; };
  function Not(item) { this.item = item; }
  Not.prototype.matches = function (record) { return !this.item.matches(record); };
  Not.prototype.fields = function () { return this.item.fields(); };
  function Junction(word, items) { this.word = word; this.items = items; }
  Junction.prototype.fields = function () {
    return [].concat.apply([], this.items.map(function (e) { return e.fields(); }));
  };
  Junction.prototype.matches = function (record) {
    return this.word === "AND"
      ? this.items.every(function (e) { return e.matches(record); })
      : this.items.some(function (e) { return e.matches(record); });
  };

  function describe(tok) { return tok.kind === "end" ? "end of input" : tok.kind === "str" ? tok.text : "'" + tok.text + "'"; }

  function badToken(s, pos) {
    var c = s[pos];
    if (c === "'" || c === '"') throw new QueryError(s, pos, "unterminated string", "close it with " + c);
    if (c === "`") throw new QueryError(s, pos, "unterminated `quoted` name", "close it with `");
    var word = /^[-+.\d][\w.\-]*/.exec(s.slice(pos));
    if (word && /\d/.test(word[0])) throw new QueryError(s, pos, "'" + word[0] + "' is not a number", "quote strings: '" + word[0] + "'");
    throw new QueryError(s, pos, "unexpected character '" + c + "'");
  }

  function tokens(s) {
    var out = [], pos = 0;
    for (;;) {
      TOKEN.lastIndex = pos;
      var m = TOKEN.exec(s);
      if (!m) badToken(s, pos + (s.slice(pos).length - s.slice(pos).replace(/^\s+/, "").length));
      var g = 1;
      while (m[g] === undefined) g++;
      var kind = KINDS[g], raw = m[g], value = raw, start = TOKEN.lastIndex - raw.length;
      pos = TOKEN.lastIndex;
      if (kind === "str") {
        var q = raw[0];
        value = raw.slice(1, -1).replace(new RegExp("\\\\(['\"\\\\])|" + q + q, "g"), function (e, g1) { return g1 || e[0]; });
      } else if (kind === "ident" && raw.indexOf("`") < 0 && KEYWORDS[raw.toUpperCase()]) {
        kind = "kw"; value = raw.toUpperCase();
      } else if (kind === "ident") {
        value = raw.replace(/`([^`]*)`|"([^"]*)"/g, function (q, b, d) { return b || d || ""; });
      } else if (kind === "punct") {
        kind = raw;
      }
      out.push({kind: kind, text: raw, value: value, pos: start});
      if (kind === "end") return out;
    }
  }

  function Parser(s) { this.s = s; this.toks = tokens(s); this.i = 0; this.depth = 0; }
  Parser.prototype.accept = function (kw) {
    var t = this.toks[this.i], found = t.kind === "kw" && t.value === kw;
    if (found) this.i++;
    return found;
  };
  Parser.prototype.take = function () {
    var t = this.toks[this.i];
    this.i = Math.min(this.i + 1, this.toks.length - 1);
    return t;
  };
  Parser.prototype.error = function (tok, message, hint) { return new QueryError(this.s, tok.pos, message, hint); };
  Parser.prototype.parse = function () {
    if (this.toks[0].kind === "end") throw new QueryError(this.s, 0, "empty expression", "e.g. name = 'churn'");
    var expr = this.disjunction(), tok = this.toks[this.i];
    if (tok.kind === ")") throw this.error(tok, "unmatched ')'");
    if (tok.kind !== "end") throw this.error(tok, "expected AND, OR or the end, found " + describe(tok));
    return expr;
  };
  Parser.prototype.disjunction = function () {
    var self = this;
    return this.junction("OR", function () { return self.junction("AND", function () { return self.negation(); }); });
  };
  Parser.prototype.junction = function (word, operand) {
    var items = [operand()];
    while (this.accept(word)) items.push(operand());
    return items.length === 1 ? items[0] : new Junction(word, items);
  };
  Parser.prototype.negation = function () {
    var opening = this.toks[this.i];
    if (opening.kind !== "(" && !(opening.kind === "kw" && opening.value === "NOT")) return this.comparison();
    this.depth++;
    if (this.depth > MAX_DEPTH) throw this.error(opening, "more than " + MAX_DEPTH + " nested NOTs or '('");
    this.take();
    var expr;
    if (opening.kind === "kw") {
      expr = new Not(this.negation());
    } else {
      expr = this.disjunction();
      var tok = this.take();
      if (tok.kind !== ")") throw this.error(tok, "expected ')' to close the '(' at column " + (opening.pos + 1) + ", found " + describe(tok));
    }
    this.depth--;
    return expr;
  };
  Parser.prototype.comparison = function () {
    var tok = this.take();
    if (tok.kind !== "ident") throw this.error(tok, "expected a field, found " + describe(tok), "fields: " + VALID);
    var field = this.field(tok);
    if (this.accept("IS")) {
      var not = this.accept("NOT");
      if (!this.accept("NULL")) throw this.error(this.toks[this.i], "expected NULL or NOT NULL after IS");
      return new Compare(field, "NULL", [], not, null);
    }
    var negate = this.accept("NOT"), pattern = null, op = this.take(), values, name;
    if (negate && (op.kind !== "kw" || ["IN", "LIKE", "ILIKE"].indexOf(op.value) < 0)) {
      throw this.error(op, "expected IN, LIKE or ILIKE after NOT, found " + describe(op));
    }
    if (op.kind === "op" && (ORDER[op.value] || op.value === "!=" || op.value === "<>")) {
      negate = op.value === "!=" || op.value === "<>";
      values = [this.value(op)];
      name = negate ? "=" : op.value;
    } else if (op.kind === "kw" && op.value === "IN") {
      name = "IN"; values = this.values(op);
    } else if (op.kind === "kw" && (op.value === "LIKE" || op.value === "ILIKE")) {
      name = op.value; values = [this.value(op)];
      if (!values[0].quoted) throw this.error(this.toks[this.i - 1], name + " takes a quoted pattern");
      pattern = like(values[0].text, name === "ILIKE");
    } else {
      var found = (op.kind === "op" || op.kind === "ident") ? "unknown operator '" + op.text + "'"
        : "expected an operator after '" + tok.text + "', found " + describe(op);
      throw this.error(op, found, "operators: = != < <= > >= [NOT] IN [NOT] LIKE [NOT] ILIKE IS [NOT] NULL");
    }
    if (field.indexOf("metrics.") === 0) {
      if (pattern) throw this.error(op, field + " is a number: " + name + " does not apply");
      var bad = values.filter(function (v) { return v.number === null; })[0];
      if (bad) throw this.error(op, field + " is a number: compare it with one, not '" + bad.text + "'");
    }
    return new Compare(field, name, values, negate, pattern);
  };
  Parser.prototype.field = function (tok) {
    var name = tok.value, dot = name.indexOf("."), prefix = dot < 0 ? name : name.slice(0, dot);
    var key = dot < 0 ? "" : name.slice(dot + 1);
    if (dot < 0 && Object.prototype.hasOwnProperty.call(FIELDS, name.toLowerCase())) return FIELDS[name.toLowerCase()];
    if (dot >= 0 && PREFIXES.indexOf(prefix.toLowerCase()) >= 0) {
      if (!key) throw this.error(tok, "expected a name after " + prefix + ".");
      return prefix.toLowerCase() + "." + key;
    }
    throw this.error(tok, "unknown field '" + name + "'", "fields: " + VALID);
  };
  Parser.prototype.value = function (after) {
    var tok = this.take();
    if (tok.kind === "str") return {text: tok.value, number: number(tok.value), quoted: true};
    if (tok.kind === "num") return {text: tok.text, number: parseFloat(tok.text), quoted: false};
    var found = tok.kind === "end" ? "" : ", found " + describe(tok);
    throw this.error(tok, "expected a value after '" + after.text + "'" + found, tok.kind === "ident" ? "quote strings: '" + tok.text + "'" : null);
  };
  Parser.prototype.values = function (after) {
    var tok = this.take();
    if (tok.kind !== "(") throw this.error(tok, "expected '(' after " + after.text + ", found " + describe(tok));
    var values = [this.value(tok)];
    while ((tok = this.take()).kind === ",") values.push(this.value(tok));
    if (tok.kind !== ")") throw this.error(tok, "expected ',' or ')' in the IN list, found " + describe(tok));
    return values;
  };

  /* The embedded index (render/site/index.py search_index): each record a flat list of
   * (key number, value) pairs changing the record before it (-1 - key: the key is gone). */
  function decode(pairs, keys, base) {
    var out = Object.assign({}, base);
    for (var i = 0; i < pairs.length; i += 2) {
      if (pairs[i] < 0) delete out[keys[-1 - pairs[i]]];
      else out[keys[pairs[i]]] = pairs[i + 1];
    }
    return out;
  }
  function index(data) {
    configure(data.grammar);
    var versionFields = {};
    data.version_fields.forEach(function (f) { versionFields[f] = true; });
    return {
      versionFields: versionFields,
      models: data.models.map(function (m) {
        var alone = decode(m[0], data.keys, {}), base = alone;
        return {name: alone.name, alone: alone,
          rows: m[1].map(function (v) { return (base = decode(v, data.keys, base)); })};
      })
    };
  }
  function own(r, k) { return Object.prototype.hasOwnProperty.call(r, k); }

  /* search.py check_fields: a prefixed key no searched record has is an error */
  function checkFields(fields, records, what) {
    if (!records.length) return;
    var names = fields.filter(function (f, i) { return fields.indexOf(f) === i; }).sort();
    names.forEach(function (name) {
      var dot = name.indexOf("."), prefix = name.slice(0, dot);
      if (dot < 0 || PREFIXES.indexOf(prefix) < 0 || records.some(function (r) { return own(r, name); })) return;
      var known = {};
      records.forEach(function (r) {
        Object.keys(r).forEach(function (k) { if (k.indexOf(prefix + ".") === 0) known[k] = true; });
      });
      var listed = Object.keys(known).sort().join(", ") || "none";
      throw new UsageError("unknown field " + pyRepr(name) + ": no " + what + " in the registry has it",
        prefix + " fields that exist: " + listed);
    });
  }

  /* search.py matches_model over ops/listing.py's records: the model with each version when
   * the expression reads a version field (records.py needs_version_fields), else alone. */
  function search(expr, idx) {
    var fields = expr.fields();
    var deep = fields.some(function (f) {
      return idx.versionFields[f] === true || f.indexOf("metrics.") === 0 || f.indexOf("params.") === 0;
    });
    var each = idx.models.map(function (m) { return deep && m.rows.length ? m.rows : [m.alone]; });
    checkFields(fields, [].concat.apply([], each), "model or version");
    return each.map(function (rows) { return rows.some(function (r) { return expr.matches(r); }); });
  }

  global.gitregFilter = {
    parse: function (s) { return new Parser(s).parse(); },
    index: index,
    search: search,
    QueryError: QueryError,
    UsageError: UsageError
  };
})(window);
