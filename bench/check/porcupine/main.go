// Command porcupine-check is the yardstick of bench/check/porcupine_compare.sh: it checks Porcupine's
// own test corpora with Porcupine (github.com/anishathalye/porcupine), in one process, as Porcupine's
// tests do, and prints the verdicts and the time as one JSON object.
//
//	porcupine-check [-timeout D] etcd DIR   # DIR/etcd_*.log: Jepsen etcd logs, a cas register
//	porcupine-check [-timeout D] kv DIR     # DIR/*.txt: kv logs, a string per key, partitioned by key
//
// The readers below are this repository's own; they accept the lines Porcupine's tests accept
// (porcupine_test.go: parseJepsenLog and parseKvLog) and build the same events: a call per invocation,
// its return from the line that completes it, and, at the end of the file, an outcome-unknown return
// for every invocation still open (an etcd operation that timed out; a kv get returning ""). The models
// are the tests' etcdModel and kvModel (the kv one partitioned by key). Lines of any other form are
// skipped, as the tests skip them.
//
// Timing: elapsed_s of a file is reading it, parsing it and checking it; elapsed_s of the whole run is
// from before the first file is opened to after the last check. The process's own start-up is outside
// both: bench/check/porcupine_compare.sh measures the whole process from outside.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// ---- etcd: a single register with read, write and cas ----------------------------------------

const etcdNil = -1000000 // the register before any write (the tests' etcdModel uses this value)

type etcdOp uint8

const (
	etcdRead etcdOp = iota
	etcdWrite
	etcdCas
)

type etcdIn struct {
	op       etcdOp
	from, to int // write: from; cas: from -> to
}

type etcdOut struct {
	ok      bool // cas succeeded
	exists  bool // read saw a value
	value   int  // the value read
	unknown bool // timed out, or never returned
}

var etcdModel = porcupine.Model{
	Init: func() interface{} { return etcdNil },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		cur := state.(int)
		in := input.(etcdIn)
		out := output.(etcdOut)
		switch in.op {
		case etcdRead:
			legal := out.unknown || (out.exists && out.value == cur) || (!out.exists && cur == etcdNil)
			return legal, cur
		case etcdWrite:
			return true, in.from
		default:
			matches := in.from == cur
			next := cur
			if matches {
				next = in.to
			}
			return out.unknown || matches == out.ok, next
		}
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(etcdIn)
		out := output.(etcdOut)
		switch in.op {
		case etcdRead:
			if !out.exists {
				return "read() -> nil"
			}
			return fmt.Sprintf("read() -> %d", out.value)
		case etcdWrite:
			return fmt.Sprintf("write(%d)", in.from)
		default:
			return fmt.Sprintf("cas(%d, %d) -> ok=%t unknown=%t", in.from, in.to, out.ok, out.unknown)
		}
	},
}

// isSpace is the \s of Go's regular expressions: [\t\n\f\r ].
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi reads a run of digits; like the tests (which drop strconv's error), an out-of-range number is 0.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// jepsenFields splits "INFO  jepsen.util - P\t:type\t:f\tvalue..." into its whitespace-separated
// fields after the "-", or returns nil when the line is not such a line. The line must start with
// INFO and end without trailing whitespace (the tests' patterns are anchored at both ends).
func jepsenFields(line string) []string {
	if !strings.HasPrefix(line, "INFO") || line == "" || isSpace(line[len(line)-1]) {
		return nil
	}
	var fields []string
	for i := 0; i < len(line); {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		if j > i {
			fields = append(fields, line[i:j])
		}
		i = j
	}
	if len(fields) < 6 || fields[0] != "INFO" || fields[1] != "jepsen.util" || fields[2] != "-" {
		return nil
	}
	// "INFO" must be followed by whitespace ("INFOx" is not INFO).
	if len(line) == 4 || !isSpace(line[4]) {
		return nil
	}
	return fields[3:]
}

// casPair reads "[A" "B]" (two fields) into A and B.
func casPair(a, b string) (int, int, bool) {
	if !strings.HasPrefix(a, "[") || !strings.HasSuffix(b, "]") {
		return 0, 0, false
	}
	x, y := a[1:], b[:len(b)-1]
	if !allDigits(x) || !allDigits(y) {
		return 0, 0, false
	}
	return atoi(x), atoi(y), true
}

// history pairs calls and returns by client, as the tests do: an invocation opens an operation for its
// process, the next completion of that process closes it.
type history struct {
	events []porcupine.Event
	open   map[int]int // process -> id of its open operation
	next   int
}

func newHistory() *history { return &history{open: map[int]int{}} }

func (h *history) call(proc int, input interface{}) {
	h.events = append(h.events, porcupine.Event{ClientId: proc, Kind: porcupine.CallEvent, Value: input, Id: h.next})
	h.open[proc] = h.next
	h.next++
}

func (h *history) ret(proc int, output interface{}) {
	id := h.open[proc] // a completion with no invocation pairs with id 0, as in the tests
	delete(h.open, proc)
	h.events = append(h.events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: output, Id: id})
}

// finish returns every operation still open, outcome unknown, at the end of the history (in process
// order; they all return after everything else, so their order does not matter).
func (h *history) finish(unknown interface{}) []porcupine.Event {
	procs := make([]int, 0, len(h.open))
	for p := range h.open {
		procs = append(procs, p)
	}
	sort.Ints(procs)
	for _, p := range procs {
		h.events = append(h.events, porcupine.Event{ClientId: p, Kind: porcupine.ReturnEvent, Value: unknown, Id: h.open[p]})
	}
	h.open = map[int]int{}
	return h.events
}

func parseEtcd(path string) ([]porcupine.Event, error) {
	h := newHistory()
	err := eachLine(path, func(line string) {
		f := jepsenFields(line)
		if f == nil || !allDigits(f[0]) {
			return
		}
		proc := atoi(f[0])
		kind, fn, args := f[1], f[2], f[3:]
		switch {
		case kind == ":invoke" && fn == ":read" && len(args) == 1 && args[0] == "nil":
			h.call(proc, etcdIn{op: etcdRead})
		case kind == ":invoke" && fn == ":write" && len(args) == 1 && allDigits(args[0]):
			h.call(proc, etcdIn{op: etcdWrite, from: atoi(args[0])})
		case kind == ":invoke" && fn == ":cas" && len(args) == 2:
			if from, to, ok := casPair(args[0], args[1]); ok {
				h.call(proc, etcdIn{op: etcdCas, from: from, to: to})
			}
		case kind == ":ok" && fn == ":read" && len(args) == 1 && args[0] == "nil":
			h.ret(proc, etcdOut{})
		case kind == ":ok" && fn == ":read" && len(args) == 1 && allDigits(args[0]):
			h.ret(proc, etcdOut{exists: true, value: atoi(args[0])})
		case kind == ":ok" && fn == ":write" && len(args) == 1 && allDigits(args[0]):
			h.ret(proc, etcdOut{})
		case (kind == ":ok" || kind == ":fail") && fn == ":cas" && len(args) == 2:
			if _, _, ok := casPair(args[0], args[1]); ok {
				h.ret(proc, etcdOut{ok: kind == ":ok"})
			}
		case kind == ":fail" && fn == ":read" && len(args) == 1 && args[0] == ":timed-out":
			h.ret(proc, etcdOut{unknown: true})
		}
	})
	if err != nil {
		return nil, err
	}
	return h.finish(etcdOut{unknown: true}), nil
}

// ---- kv: a string per key with get, put and append ---------------------------------------------

type kvOp uint8

const (
	kvGet kvOp = iota
	kvPut
	kvAppend
)

type kvIn struct {
	op    kvOp
	key   string
	value string
}

type kvOut struct {
	value string
}

var kvModel = porcupine.Model{
	PartitionEvent: func(events []porcupine.Event) [][]porcupine.Event {
		keyOf := map[int]string{} // operation id -> key
		byKey := map[string][]porcupine.Event{}
		for _, e := range events {
			if e.Kind == porcupine.CallEvent {
				keyOf[e.Id] = e.Value.(kvIn).key
			}
			k := keyOf[e.Id]
			byKey[k] = append(byKey[k], e)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([][]porcupine.Event, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, byKey[k])
		}
		return parts
	},
	Init: func() interface{} { return "" }, // one key's string: the history is partitioned by key
	Step: func(state, input, output interface{}) (bool, interface{}) {
		cur := state.(string)
		in := input.(kvIn)
		switch in.op {
		case kvGet:
			return output.(kvOut).value == cur, cur
		case kvPut:
			return true, in.value
		default:
			return true, cur + in.value
		}
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(kvIn)
		switch in.op {
		case kvGet:
			return fmt.Sprintf("get(%q) -> %q", in.key, output.(kvOut).value)
		case kvPut:
			return fmt.Sprintf("put(%q, %q)", in.key, in.value)
		default:
			return fmt.Sprintf("append(%q, %q)", in.key, in.value)
		}
	},
}

// kvLine reads `{:process P, :type :T, :f :F, :key "K", :value V}` anywhere in a line (V: nil or a
// quoted string). The key runs to the last `", :value ` of the line, a quoted value to the last `"}`.
func kvLine(line string) (proc int, typ, fn, key string, value *string, ok bool) {
	const head = "{:process "
	i := strings.Index(line, head)
	if i < 0 {
		return
	}
	s := line[i+len(head):]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == 0 || !strings.HasPrefix(s[j:], ", :type :") {
		return
	}
	proc = atoi(s[:j])
	s = s[j+len(", :type :"):]
	if j = strings.Index(s, ", :f :"); j < 0 {
		return
	}
	typ, s = s[:j], s[j+len(", :f :"):]
	if j = strings.Index(s, `, :key "`); j < 0 {
		return
	}
	fn, s = s[:j], s[j+len(`, :key "`):]
	if j = strings.LastIndex(s, `", :value `); j < 0 {
		return
	}
	key, s = s[:j], s[j+len(`", :value `):]
	switch {
	case strings.HasPrefix(s, "nil}"):
		return proc, typ, fn, key, nil, true
	case strings.HasPrefix(s, `"`):
		if j = strings.LastIndex(s, `"}`); j < 1 {
			return
		}
		v := s[1:j]
		return proc, typ, fn, key, &v, true
	}
	return
}

func parseKv(path string) ([]porcupine.Event, error) {
	h := newHistory()
	err := eachLine(path, func(line string) {
		proc, typ, fn, key, value, ok := kvLine(line)
		if !ok {
			return
		}
		switch {
		case typ == "invoke" && fn == "get" && value == nil:
			h.call(proc, kvIn{op: kvGet, key: key})
		case typ == "invoke" && fn == "put" && value != nil:
			h.call(proc, kvIn{op: kvPut, key: key, value: *value})
		case typ == "invoke" && fn == "append" && value != nil:
			h.call(proc, kvIn{op: kvAppend, key: key, value: *value})
		case typ == "ok" && fn == "get" && value != nil:
			h.ret(proc, kvOut{value: *value})
		case typ == "ok" && (fn == "put" || fn == "append") && value != nil:
			h.ret(proc, kvOut{})
		}
	})
	if err != nil {
		return nil, err
	}
	return h.finish(kvOut{}), nil
}

// ---- driver ------------------------------------------------------------------------------------

func eachLine(path string, f func(string)) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		f(strings.TrimSuffix(sc.Text(), "\r"))
	}
	return sc.Err()
}

type fileResult struct {
	File       string  `json:"file"`
	Operations int     `json:"operations"`
	Porcupine  string  `json:"porcupine"` // Ok, Illegal or Unknown (timed out)
	Verdict    string  `json:"verdict"`   // seer's words for the same
	ElapsedS   float64 `json:"elapsed_s"`
}

type report struct {
	Corpus          string       `json:"corpus"`
	Dir             string       `json:"dir"`
	Porcupine       string       `json:"porcupine_module"`
	GoVersion       string       `json:"go"`
	GoMaxProcs      int          `json:"gomaxprocs"`
	Files           []fileResult `json:"files"`
	Linearizable    int          `json:"linearizable"`
	NotLinearizable int          `json:"not_linearizable"`
	Unknown         int          `json:"unknown"`
	ElapsedS        float64      `json:"elapsed_s"`
}

func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/anishathalye/porcupine" {
			if d.Replace != nil {
				return d.Version + " (replaced by " + d.Replace.Path + ")"
			}
			return d.Version
		}
	}
	return "unknown"
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: porcupine-check [-timeout D] etcd|kv DIR")
	os.Exit(2)
}

func main() {
	timeout := flag.Duration("timeout", 0, "give up on a history after this long (0: never); an answer then is Unknown")
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() != 2 {
		usage()
	}
	kind, dir := flag.Arg(0), flag.Arg(1)
	var pattern string
	var parse func(string) ([]porcupine.Event, error)
	var model porcupine.Model
	switch kind {
	case "etcd":
		pattern, parse, model = "etcd_*.log", parseEtcd, etcdModel
	case "kv":
		pattern, parse, model = "*.txt", parseKv, kvModel
	default:
		usage()
	}
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "porcupine-check: no %s in %s\n", pattern, dir)
		os.Exit(1)
	}
	sort.Strings(files)

	rep := report{Corpus: kind, Dir: dir, Porcupine: moduleVersion(), GoVersion: runtime.Version(),
		GoMaxProcs: runtime.GOMAXPROCS(0)}
	start := time.Now()
	for _, path := range files {
		t0 := time.Now()
		events, err := parse(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "porcupine-check: %s: %v\n", path, err)
			os.Exit(1)
		}
		res := porcupine.CheckEventsTimeout(model, events, *timeout)
		fr := fileResult{File: filepath.Base(path), Operations: len(events) / 2,
			ElapsedS: time.Since(t0).Seconds()}
		switch res {
		case porcupine.Ok:
			fr.Porcupine, fr.Verdict = "Ok", "linearizable"
			rep.Linearizable++
		case porcupine.Illegal:
			fr.Porcupine, fr.Verdict = "Illegal", "not-linearizable"
			rep.NotLinearizable++
		default:
			fr.Porcupine, fr.Verdict = "Unknown", "unknown"
			rep.Unknown++
		}
		rep.Files = append(rep.Files, fr)
	}
	rep.ElapsedS = time.Since(start).Seconds()
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
}
