// Command porcupine-bench times porcupine on a history file that `raftlab lincheck`
// also reads, so that both checkers are measured on the same operations.
//
// Usage:
//
//	porcupine-bench [flags] FILE
//
// FILE is either Jepsen EDN maps, one event per line (key/value histories:
// {:process 3, :type :invoke, :f :append, :key "4", :value "x 3 12 y"}; register
// histories with :f :read/:write/:cas), or jepsen.util log lines (register
// histories: INFO  jepsen.util - 7	:invoke	:cas	[1 4]). Events are paired into
// operations exactly as raftlab's reader does (checker/src/format/jepsen.rs): an
// event's time is its position among the events; :invoke opens an operation of
// its process; :ok completes it with the event's value as output; :fail drops a
// key/value operation or a register write, makes a compare-and-set return false
// and a register read return with an unknown output; :info (or no completion at
// all) leaves the operation open until after the last event with an unknown
// output. Lines whose process is not a number (the nemesis) are skipped.
//
// The models mirror raftlab's: key/value (-model kv: partitioned by key; get, put,
// append; kv-lab2: appends return the old value) whose unknown outputs match any
// state; the same operations unpartitioned (-model map: one search whose state is
// the whole map, like raftlab's map model and porcupine's own KvNoPartition
// tests); and a single register (read, write, compare-and-set, absent initial
// value) whose unknown outputs do what the operation would do. Register values are
// interned to integers, as porcupine's own register models use integers. Every
// model gives porcupine a state Hash (porcupine v1.3.0 and later use it in their
// cache of states; without one the cache compares every pair of states), so this
// harness needs porcupine v1.3.0 or later.
//
// Only the check is timed (not reading or building the history). Each run is
// preceded by a garbage collection. The run loop stops after -runs runs, once
// -budget seconds have been spent and at least -min-runs runs were made, or after a
// run that timed out (-timeout; verdict Unknown). With -mem-limit, a check whose
// process takes more memory than that is stopped and reported as Unknown
// (reason=memory). The output is one line:
//
//	RESULT checker=porcupine version=V file=F model=kv ops=N mode=fast threads=T verdict=Ok runs=K median_ms=.. cpu_median_ms=.. peak_rss_kib=.. runs_ms=a,b,.. cpu_ms=a,b,..
//
// where cpu is the process's CPU time (all threads) spent during the check,
// peak_rss_kib the process's peak resident memory (reading the file included) and
// V the porcupine version the build recorded (-ldflags "-X main.porcupineVersion=V";
// -version prints it).
// Fast mode is CheckOperations (CheckOperationsTimeout with -timeout); verbose mode
// is CheckOperationsVerbose, which also computes the partial linearizations.
package main

import (
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unsafe"

	"github.com/anishathalye/porcupine"
)

// ---------------------------------------------------------------------------
// A reader for the EDN that Jepsen histories use.

type keyword string
type symbol string
type ednMap []ednEntry
type ednEntry struct{ k, v any }

func (m ednMap) get(key string) (any, bool) {
	for _, e := range m {
		if k, ok := e.k.(keyword); ok && string(k) == key {
			return e.v, true
		}
	}
	return nil, false
}

type ednReader struct {
	s   []rune
	pos int
}

func (r *ednReader) errorf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", r.pos+1, fmt.Sprintf(format, args...))
}

func (r *ednReader) skipSpace() {
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		switch {
		case unicode.IsSpace(c) || c == ',':
			r.pos++
		case c == ';':
			r.pos = len(r.s)
		default:
			return
		}
	}
}

func isDelimiter(c rune) bool {
	return unicode.IsSpace(c) || strings.ContainsRune(",[](){}\";", c)
}

func (r *ednReader) token() string {
	start := r.pos
	for r.pos < len(r.s) && !isDelimiter(r.s[r.pos]) {
		r.pos++
	}
	return string(r.s[start:r.pos])
}

func (r *ednReader) value(depth int) (any, error) {
	if depth > 64 {
		return nil, r.errorf("nested too deeply")
	}
	r.skipSpace()
	if r.pos >= len(r.s) {
		return nil, r.errorf("expected a value, found the end of the line")
	}
	c := r.s[r.pos]
	switch c {
	case '"':
		return r.str()
	case '[', '(':
		end := ']'
		if c == '(' {
			end = ')'
		}
		r.pos++
		items := []any{}
		for {
			r.skipSpace()
			if r.pos >= len(r.s) {
				return nil, r.errorf("missing '%c'", end)
			}
			if r.s[r.pos] == end {
				r.pos++
				return items, nil
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
	case '{':
		r.pos++
		m := ednMap{}
		for {
			r.skipSpace()
			if r.pos >= len(r.s) {
				return nil, r.errorf("missing '}'")
			}
			if r.s[r.pos] == '}' {
				r.pos++
				return m, nil
			}
			k, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			r.skipSpace()
			if r.pos < len(r.s) && r.s[r.pos] == '}' {
				return nil, r.errorf("key %v has no value", k)
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m = append(m, ednEntry{k, v})
		}
	case ']', ')', '}':
		return nil, r.errorf("unexpected '%c'", c)
	case ':':
		r.pos++
		name := r.token()
		if name == "" {
			return nil, r.errorf("empty keyword")
		}
		return keyword(name), nil
	}
	start := r.pos
	tok := r.token()
	switch {
	case tok == "nil":
		return nil, nil
	case tok == "true":
		return true, nil
	case tok == "false":
		return false, nil
	case (tok != "" && tok[0] >= '0' && tok[0] <= '9') ||
		(len(tok) > 1 && (tok[0] == '-' || tok[0] == '+')):
		i, err := strconv.ParseInt(strings.TrimRight(tok, "N"), 10, 64)
		if err != nil {
			r.pos = start
			return nil, r.errorf("bad number %q", tok)
		}
		return i, nil
	}
	return symbol(tok), nil
}

func (r *ednReader) str() (any, error) {
	r.pos++
	var b strings.Builder
	for {
		if r.pos >= len(r.s) {
			return nil, r.errorf("unterminated string")
		}
		c := r.s[r.pos]
		r.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if r.pos >= len(r.s) {
				return nil, r.errorf("unterminated string")
			}
			e := r.s[r.pos]
			r.pos++
			switch e {
			case 'n':
				b.WriteRune('\n')
			case 't':
				b.WriteRune('\t')
			case 'r':
				b.WriteRune('\r')
			case '"', '\\':
				b.WriteRune(e)
			default:
				return nil, r.errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteRune(c)
		}
	}
}

// parseEdnAll reads text as exactly one value.
func parseEdnAll(text string) (any, error) {
	r := &ednReader{s: []rune(text)}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	r.skipSpace()
	if r.pos < len(r.s) {
		return nil, r.errorf("unexpected text after the value")
	}
	return v, nil
}

// parseEdnPrefix reads the first value of text.
func parseEdnPrefix(text string) (any, error) {
	r := &ednReader{s: []rune(text)}
	return r.value(0)
}

func showEdn(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case keyword:
		return ":" + string(x)
	case string:
		return strconv.Quote(x)
	default:
		return fmt.Sprint(x)
	}
}

// ---------------------------------------------------------------------------
// Jepsen events.

const (
	invokeEv = iota
	okEv
	failEv
	infoEv
)

var eventTypes = map[string]int{"invoke": invokeEv, "ok": okEv, "fail": failEv, "info": infoEv}

type event struct {
	line    int
	process uint64
	kind    int
	f       string
	key     any
	hasKey  bool
	value   any
}

type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func lineErr(line int, format string, args ...any) error {
	return &lineError{line, fmt.Sprintf(format, args...)}
}

type contentLine struct {
	n    int
	text string
}

func contentLines(text string) []contentLine {
	var out []contentLine
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, contentLine{i + 1, t})
	}
	return out
}

func readEdn(text string) ([]event, error) {
	var out []event
	for _, cl := range contentLines(text) {
		v, err := parseEdnAll(cl.text)
		if err != nil {
			return nil, lineErr(cl.n, "%v", err)
		}
		m, ok := v.(ednMap)
		if !ok {
			return nil, lineErr(cl.n, "expected an EDN map, found %s", showEdn(v))
		}
		var e event
		e.line = cl.n
		switch p, has := m.get("process"); x := p.(type) {
		case int64:
			if x < 0 {
				return nil, lineErr(cl.n, "field :process: expected a process number, found %d", x)
			}
			e.process = uint64(x)
		case keyword:
			continue
		default:
			if !has {
				return nil, lineErr(cl.n, "field :process: missing")
			}
			return nil, lineErr(cl.n, "field :process: expected a process number, found %s", showEdn(p))
		}
		t, has := m.get("type")
		k, isKw := t.(keyword)
		if !has {
			return nil, lineErr(cl.n, "field :type: missing")
		}
		kind, known := eventTypes[string(k)]
		if !isKw || !known {
			return nil, lineErr(cl.n, "field :type: expected :invoke, :ok, :fail or :info, found %s", showEdn(t))
		}
		e.kind = kind
		f, has := m.get("f")
		fk, isKw := f.(keyword)
		if !has || !isKw {
			return nil, lineErr(cl.n, "field :f: expected a keyword, found %s", showEdn(f))
		}
		e.f = string(fk)
		e.key, e.hasKey = m.get("key")
		e.value, _ = m.get("value")
		out = append(out, e)
	}
	return out, nil
}

func readLog(text string) ([]event, error) {
	var out []event
	for _, cl := range contentLines(text) {
		body := cl.text
		if i := strings.Index(body, " - "); i >= 0 && strings.Contains(body[:i], "jepsen") {
			body = body[i+3:]
		}
		rest := body
		next := func() string {
			r := strings.TrimLeftFunc(rest, unicode.IsSpace)
			end := strings.IndexFunc(r, unicode.IsSpace)
			if end < 0 {
				end = len(r)
			}
			tok := r[:end]
			rest = r[end:]
			return tok
		}
		proc, typ := next(), next()
		if proc == "" || typ == "" || !strings.HasPrefix(typ, ":") {
			continue
		}
		kind, ok := eventTypes[typ[1:]]
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(proc, 10, 64)
		if err != nil {
			if strings.HasPrefix(proc, ":") {
				continue // :nemesis
			}
			return nil, lineErr(cl.n, "expected a process number, found %q", proc)
		}
		f := next()
		if f == "" {
			return nil, lineErr(cl.n, "missing the operation after the type")
		}
		if !strings.HasPrefix(f, ":") {
			return nil, lineErr(cl.n, "expected an operation like :read, found %q", f)
		}
		var value any
		if vt := strings.TrimSpace(rest); vt != "" {
			value, err = parseEdnPrefix(vt)
			if err != nil {
				return nil, lineErr(cl.n, "bad value %q: %v", vt, err)
			}
		}
		out = append(out, event{line: cl.n, process: p, kind: kind, f: f[1:], value: value})
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Operations and models.

type kvOp int

const (
	opGet kvOp = iota
	opPut
	opAppend
	opAppendOld
)

type kvInput struct {
	op    kvOp
	key   string
	value string
}

type kvOutput struct {
	value   string
	unknown bool
}

const (
	regRead = iota
	regWrite
	regCas
)

// Register values are interned: 0 is the absent value (nil).
type regInput struct {
	op       int
	value    int // write
	from, to int // cas
}

const (
	outRead = iota
	outDone
	outCas
	outUnknown
)

type regOutput struct {
	kind  int
	value int  // read
	ok    bool // cas
}

// op is an operation in raftlab's terms: ret < 0 means it never returned.
type op struct {
	client uint64
	input  any
	output any
	call   int64
	ret    int64
}

type family interface {
	input(e *event) (any, error)
	// output returns the output of a completed operation; drop=true drops it.
	output(in any, e *event) (out any, drop bool, err error)
	unknown() any
}

func textOf(line int, field string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case nil:
		return "", nil
	}
	return "", lineErr(line, "field %s: expected a string, found %s", field, showEdn(v))
}

type kvFamily struct{}

func (kvFamily) input(e *event) (any, error) {
	var o kvOp
	switch e.f {
	case "get", "read":
		o = opGet
	case "put", "write":
		o = opPut
	case "append":
		o = opAppend
	default:
		return nil, lineErr(e.line, "field :f: expected :get, :put or :append, found :%s", e.f)
	}
	if !e.hasKey {
		return nil, lineErr(e.line, "field :key: missing")
	}
	key, err := textOf(e.line, ":key", e.key)
	if err != nil {
		return nil, err
	}
	value := ""
	if o != opGet {
		if value, err = textOf(e.line, ":value", e.value); err != nil {
			return nil, err
		}
	}
	return kvInput{o, key, value}, nil
}

func (kvFamily) output(_ any, e *event) (any, bool, error) {
	if e.kind != okEv {
		return nil, true, nil
	}
	v, err := textOf(e.line, ":value", e.value)
	return kvOutput{value: v}, false, err
}

func (kvFamily) unknown() any { return kvOutput{unknown: true} }

type regFamily struct{ values map[string]int }

func (r *regFamily) intern(line int, v any) (int, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		s = strconv.FormatInt(x, 10)
	case string:
		s = x
	default:
		return 0, lineErr(line, "field :value: expected a value or nil, found %s", showEdn(v))
	}
	id, ok := r.values[s]
	if !ok {
		id = len(r.values) + 1
		r.values[s] = id
	}
	return id, nil
}

func (r *regFamily) input(e *event) (any, error) {
	switch e.f {
	case "read":
		return regInput{op: regRead}, nil
	case "write":
		v, err := r.intern(e.line, e.value)
		return regInput{op: regWrite, value: v}, err
	case "cas":
		pair, ok := e.value.([]any)
		if !ok || len(pair) != 2 {
			return nil, lineErr(e.line, "field :value: expected [from to], found %s", showEdn(e.value))
		}
		from, err := r.intern(e.line, pair[0])
		if err != nil {
			return nil, err
		}
		to, err := r.intern(e.line, pair[1])
		return regInput{op: regCas, from: from, to: to}, err
	}
	return nil, lineErr(e.line, "field :f: expected :read, :write or :cas, found :%s", e.f)
}

func (r *regFamily) output(in any, e *event) (any, bool, error) {
	ok := e.kind == okEv
	switch in.(regInput).op {
	case regRead:
		if !ok {
			return regOutput{kind: outUnknown}, false, nil
		}
		v, err := r.intern(e.line, e.value)
		return regOutput{kind: outRead, value: v}, false, err
	case regWrite:
		if !ok {
			return nil, true, nil
		}
		return regOutput{kind: outDone}, false, nil
	default:
		return regOutput{kind: outCas, ok: ok}, false, nil
	}
}

func (r *regFamily) unknown() any { return regOutput{kind: outUnknown} }

// pairUp turns events into operations, in invoke order; returns them and the
// number of events (open operations return after the last one).
func pairUp(events []event, fam family) ([]op, error) {
	type open struct {
		slot int
		f    string
		line int
	}
	slots := []*op{}
	pending := map[uint64]open{}
	for i := range events {
		e := &events[i]
		t := int64(i)
		if e.kind == invokeEv {
			if o, busy := pending[e.process]; busy {
				return nil, lineErr(e.line, "process %d invokes again while its :%s from line %d is pending", e.process, o.f, o.line)
			}
			in, err := fam.input(e)
			if err != nil {
				return nil, err
			}
			pending[e.process] = open{len(slots), e.f, e.line}
			slots = append(slots, &op{client: e.process, input: in, output: fam.unknown(), call: t, ret: -1})
			continue
		}
		o, busy := pending[e.process]
		if !busy {
			return nil, lineErr(e.line, "process %d completes an operation it never invoked", e.process)
		}
		delete(pending, e.process)
		if o.f != e.f {
			return nil, lineErr(e.line, "completes :%s but process %d invoked :%s at line %d", e.f, e.process, o.f, o.line)
		}
		if e.kind == infoEv {
			continue // stays open with an unknown output
		}
		s := slots[o.slot]
		out, drop, err := fam.output(s.input, e)
		if err != nil {
			return nil, err
		}
		if drop {
			slots[o.slot] = nil
			continue
		}
		s.output, s.ret = out, t
	}
	var ops []op
	for _, s := range slots {
		if s != nil {
			ops = append(ops, *s)
		}
	}
	return ops, nil
}

func kvStep(state, input, output any) (bool, any) {
	st := state.(string)
	in := input.(kvInput)
	out := output.(kvOutput)
	matches := out.unknown || out.value == st
	switch in.op {
	case opGet:
		return matches, st
	case opPut:
		return true, in.value
	case opAppend:
		return true, st + in.value
	default: // opAppendOld, the Lab 2 append that returns the old value
		return matches, st + in.value
	}
}

func kvModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, o := range history {
				k := o.Input.(kvInput).key
				if _, seen := byKey[k]; !seen {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], o)
			}
			sort.Strings(keys)
			parts := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				parts = append(parts, byKey[k])
			}
			return parts
		},
		Init:              func() any { return "" },
		Step:              kvStep,
		Equal:             func(a, b any) bool { return a.(string) == b.(string) },
		Hash:              func(state any) uint64 { return hashString(state.(string)) },
		DescribeOperation: describeKv,
		DescribeState:     func(state any) string { return strconv.Quote(state.(string)) },
	}
}

func describeKv(input, output any) string {
	in, out := input.(kvInput), output.(kvOutput)
	o := strconv.Quote(out.value)
	if out.unknown {
		o = "?"
	}
	switch in.op {
	case opGet:
		return fmt.Sprintf("get(%q) -> %s", in.key, o)
	case opPut:
		return fmt.Sprintf("put(%q, %q)", in.key, in.value)
	}
	return fmt.Sprintf("append(%q, %q) -> %s", in.key, in.value, o)
}

// hashString is 64-bit FNV-1a: the state hash porcupine's cache (v1.3.0 and later)
// uses to avoid comparing every pair of states.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// kvMap is the state of the unpartitioned key/value model: every key's value,
// never modified once built (a step copies it). Keys whose value is empty are left
// out, so that equal maps are equal states, as in raftlab's map model.
type kvMap map[string]string

func (m kvMap) with(key, value string) kvMap {
	next := make(kvMap, len(m)+1)
	for k, v := range m {
		next[k] = v
	}
	if value == "" {
		delete(next, key)
	} else {
		next[key] = value
	}
	return next
}

// mapStep is kvStep on the key's value in the whole map.
func mapStep(state, input, output any) (bool, any) {
	st := state.(kvMap)
	in := input.(kvInput)
	old := st[in.key]
	ok, next := kvStep(old, input, output)
	if !ok || next.(string) == old {
		return ok, st
	}
	return true, st.with(in.key, next.(string))
}

// mapModel is kvModel without partitioning: one search over the whole history
// whose state is the whole map (porcupine's own KvNoPartition tests check the
// same way). Its hash combines the entries' hashes with XOR, so it does not
// depend on Go's map order.
func mapModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return kvMap{} },
		Step: mapStep,
		Equal: func(a, b any) bool {
			x, y := a.(kvMap), b.(kvMap)
			if len(x) != len(y) {
				return false
			}
			for k, v := range x {
				if w, ok := y[k]; !ok || w != v {
					return false
				}
			}
			return true
		},
		Hash: func(state any) uint64 {
			var h uint64
			for k, v := range state.(kvMap) {
				e := fnv.New64a()
				e.Write([]byte(k))
				e.Write([]byte{0})
				e.Write([]byte(v))
				h ^= e.Sum64()
			}
			return h
		},
		DescribeOperation: describeKv,
		DescribeState: func(state any) string {
			st := state.(kvMap)
			keys := make([]string, 0, len(st))
			for k := range st {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%q: %q", k, st[k])
			}
			return "{" + strings.Join(parts, ", ") + "}"
		},
	}
}

func registerStep(state, input, output any) (bool, any) {
	st := state.(int)
	in := input.(regInput)
	out := output.(regOutput)
	switch in.op {
	case regRead:
		switch out.kind {
		case outRead:
			return out.value == st, st
		case outUnknown:
			return true, st
		}
	case regWrite:
		if out.kind == outDone || out.kind == outUnknown {
			return true, in.value
		}
	case regCas:
		switch {
		case out.kind == outCas && out.ok:
			return in.from == st, in.to
		case out.kind == outCas:
			return in.from != st, st
		case out.kind == outUnknown:
			if in.from == st {
				return true, in.to
			}
			return true, st
		}
	}
	return false, st
}

func registerModel() porcupine.Model {
	return porcupine.Model{
		Init:  func() any { return 0 },
		Step:  registerStep,
		Equal: func(a, b any) bool { return a.(int) == b.(int) },
		Hash:  func(state any) uint64 { return uint64(state.(int)) },
		DescribeOperation: func(input, output any) string {
			return fmt.Sprintf("%+v -> %+v", input, output)
		},
		DescribeState: func(state any) string { return strconv.Itoa(state.(int)) },
	}
}

// ---------------------------------------------------------------------------
// Loading and timing.

func detectFormat(text string) (string, error) {
	lines := contentLines(text)
	if len(lines) == 0 {
		return "", errors.New("the file holds no history (it is empty)")
	}
	first := lines[0].text
	if strings.HasPrefix(first, "{") && strings.HasPrefix(strings.TrimSpace(first[1:]), ":") {
		return "edn", nil
	}
	for _, l := range strings.Split(text, "\n") {
		for _, t := range strings.Fields(l) {
			if t == ":invoke" || t == ":ok" || t == ":fail" || t == ":info" {
				return "jepsen-log", nil
			}
		}
	}
	return "", errors.New("cannot tell the format: expected EDN maps or Jepsen log lines")
}

// load reads the file into porcupine operations for the model.
func load(path, modelName string) ([]porcupine.Operation, porcupine.Model, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, porcupine.Model{}, "", err
	}
	text := string(data)
	format, err := detectFormat(text)
	if err != nil {
		return nil, porcupine.Model{}, "", err
	}
	var events []event
	if format == "edn" {
		events, err = readEdn(text)
	} else {
		events, err = readLog(text)
	}
	if err != nil {
		return nil, porcupine.Model{}, "", err
	}
	if modelName == "" {
		switch {
		case format == "jepsen-log":
			modelName = "register"
		case len(events) > 0 && (events[0].f == "read" || events[0].f == "write" || events[0].f == "cas"):
			modelName = "register"
		default:
			modelName = "kv"
		}
	}
	var fam family
	var model porcupine.Model
	switch modelName {
	case "kv", "kv-lab2":
		fam = kvFamily{}
		model = kvModel()
	case "map":
		fam = kvFamily{}
		model = mapModel()
	case "register":
		fam = &regFamily{values: map[string]int{}}
		model = registerModel()
	default:
		return nil, model, "", fmt.Errorf("-model %s: expected kv, kv-lab2, map or register", modelName)
	}
	ops, err := pairUp(events, fam)
	if err != nil {
		return nil, model, "", err
	}
	if modelName == "kv-lab2" {
		for i := range ops {
			if in := ops[i].input.(kvInput); in.op == opAppend {
				in.op = opAppendOld
				ops[i].input = in
			}
		}
	}
	// Porcupine's client ids are dense and 0-based; open operations return after
	// every event.
	end := int64(len(events))
	ids := map[uint64]int{}
	history := make([]porcupine.Operation, 0, len(ops))
	for _, o := range ops {
		id, ok := ids[o.client]
		if !ok {
			id = len(ids)
			ids[o.client] = id
		}
		ret := o.ret
		if ret < 0 {
			ret = end
		}
		history = append(history, porcupine.Operation{
			ClientId: id, Input: o.input, Call: o.call, Output: o.output, Return: ret,
		})
	}
	return history, model, modelName, nil
}

type timespec struct{ sec, nsec int64 }

// cpuTime is the process's CPU time so far (all threads), or -1.
func cpuTime() time.Duration {
	const clockProcessCputimeID = 2
	var ts timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCputimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return -1
	}
	return time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
}

// porcupineVersion is the porcupine this binary was built with, as the build
// sets it (go build -ldflags "-X main.porcupineVersion=v1.3.0"); "unknown" if not.
var porcupineVersion = "unknown"

// peakRSSKiB is the process's peak resident set size so far, in KiB, or -1.
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss) // KiB on Linux
}

// watchMemory ends the process with an Unknown RESULT line (reason=memory) once
// the Go runtime holds more than limit bytes from the system: a check that would
// exhaust the machine's memory reports Unknown instead, as one that runs out of
// time does. head is the RESULT line's start.
func watchMemory(limit uint64, head func() string) {
	for range time.Tick(50 * time.Millisecond) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.Sys > limit {
			fmt.Printf("%s verdict=Unknown reason=memory runs=0 median_ms=na cpu_median_ms=na peak_rss_kib=%d runs_ms= cpu_ms=\n",
				head(), peakRSSKiB())
			os.Exit(0)
		}
	}
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

func median(v []time.Duration) time.Duration {
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func main() {
	modelName := flag.String("model", "", "kv, kv-lab2, map or register (default: guessed)")
	mode := flag.String("mode", "fast", "fast (CheckOperations) or verbose (CheckOperationsVerbose)")
	runs := flag.Int("runs", 11, "at most this many runs")
	minRuns := flag.Int("min-runs", 3, "at least this many runs")
	budget := flag.Float64("budget", 2, "stop after this many seconds once -min-runs runs are done")
	timeout := flag.Float64("timeout", 0, "time budget of one check in seconds (0: none)")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0: leave as is)")
	memLimit := flag.Float64("mem-limit", 0, "MiB the Go runtime may take from the system before the check is stopped as Unknown (0: no limit)")
	version := flag.Bool("version", false, "print the porcupine version this binary was built with")
	parseOnly := flag.Bool("parse-only", false, "read the history, print its operation count, do not check")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: porcupine-bench [flags] FILE\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *version {
		fmt.Println(porcupineVersion)
		return
	}
	if flag.NArg() != 1 || (*mode != "fast" && *mode != "verbose") {
		flag.Usage()
		os.Exit(3)
	}
	path := flag.Arg(0)
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	history, model, name, err := load(path, *modelName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "porcupine-bench: %s: %v\n", path, err)
		os.Exit(3)
	}
	if *parseOnly {
		fmt.Printf("PARSED file=%s model=%s ops=%d\n", path, name, len(history))
		return
	}
	head := func() string {
		return fmt.Sprintf("RESULT checker=porcupine version=%s file=%s model=%s ops=%d mode=%s threads=%d",
			porcupineVersion, path, name, len(history), *mode, runtime.GOMAXPROCS(0))
	}
	if *memLimit > 0 {
		go watchMemory(uint64(*memLimit*(1<<20)), head)
	}
	limit := time.Duration(*timeout * float64(time.Second))
	check := func() porcupine.CheckResult {
		if *mode == "verbose" {
			res, _ := porcupine.CheckOperationsVerbose(model, history, limit)
			return res
		}
		if limit > 0 {
			return porcupine.CheckOperationsTimeout(model, history, limit)
		}
		if porcupine.CheckOperations(model, history) {
			return porcupine.Ok
		}
		return porcupine.Illegal
	}
	var walls, cpus []time.Duration
	verdicts := map[string]bool{}
	start := time.Now()
	budgetDur := time.Duration(*budget * float64(time.Second))
	for len(walls) < *runs && (len(walls) < *minRuns || time.Since(start) < budgetDur) && !verdicts[string(porcupine.Unknown)] {
		runtime.GC()
		c0 := cpuTime()
		w0 := time.Now()
		res := check()
		wall := time.Since(w0)
		c1 := cpuTime()
		walls = append(walls, wall)
		cpus = append(cpus, c1-c0)
		verdicts[string(res)] = true
	}
	var vs []string
	for v := range verdicts {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	list := func(v []time.Duration) string {
		s := make([]string, len(v))
		for i, d := range v {
			s[i] = ms(d)
		}
		return strings.Join(s, ",")
	}
	fmt.Printf("%s verdict=%s runs=%d median_ms=%s cpu_median_ms=%s peak_rss_kib=%d runs_ms=%s cpu_ms=%s\n",
		head(), strings.Join(vs, "/"), len(walls),
		ms(median(walls)), ms(median(cpus)), peakRSSKiB(), list(walls), list(cpus))
}
