package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/handlers/policy"
)

// cmdEval: `yanzhen eval policy FILE.jsonl [--corpus DIR]` answers every question of the file from the
// knowledge base in the configured database (or, when it has no documents, from the built-in demo
// corpus; or from the documents in DIR) and prints, per question, the top passage's document, the
// answer and whether it is right, then top-1 / top-3 accuracy and latency percentiles. Nothing is
// written to the database.
func cmdEval(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 || args[0] != "policy" {
		return usageError("eval policy FILE.jsonl [--corpus DIR]")
	}
	fs := newFlagSet("eval policy", std)
	var cf commonFlags
	cf.register(fs)
	corpus := fs.String("corpus", "", "evaluate over the .txt/.md/.docx documents in this folder instead of the database")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("eval policy FILE.jsonl [--corpus DIR]")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	qs, err := policy.ReadEvalQuestions(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("eval: %s: %w", fs.Arg(0), err)
	}
	cfg, log, err := cf.load(std)
	if err != nil {
		return err
	}
	var kb *policy.KB
	from := ""
	start := time.Now()
	if *corpus != "" {
		files, err := policyFiles([]string{*corpus})
		if err != nil {
			return err
		}
		docs := map[string][]byte{}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			docs[filepath.Base(p)] = b
		}
		if kb, err = policy.FilesKB(docs); err != nil {
			return fmt.Errorf("eval: %s", policy.Reason(err))
		}
		from = *corpus
	} else {
		db, err := openDB(cfg, log)
		if err != nil {
			return err
		}
		defer closeDB(db)
		if kb, err = policy.New(policy.Options{DB: db, Log: log}).Current(ctx); err != nil {
			return err
		}
		from = "the database"
		if len(kb.Docs) == 0 {
			if kb, err = policy.DemoKB(); err != nil {
				return err
			}
			from = "the built-in demo corpus (the database has no policy documents)"
		}
	}
	fmt.Fprintf(std.err, "eval: %d documents, %d passages from %s, indexed in %v\n", len(kb.Docs), len(kb.Passages), from, time.Since(start).Round(time.Millisecond))

	rep := kb.Eval(qs)
	mark := map[bool]string{true: "RIGHT", false: "WRONG"}
	for i, r := range rep.Rows {
		fmt.Fprintf(std.out, "%d. %s (top-3 %s) %s\n", i+1, mark[r.Top1], strings.ToLower(mark[r.Top3]), r.Question.Q)
		fmt.Fprintf(std.out, "   expected: %s %q\n", r.Question.Source, r.Question.Expect)
		top := r.TopDoc
		if top == "" {
			top = "(nothing found)"
		}
		fmt.Fprintf(std.out, "   top passage: %s, confidence %.2f, %s\n", top, r.Answer.Confidence, r.Answer.Kind)
		fmt.Fprintf(std.out, "   answer: %s\n", strings.ReplaceAll(r.TopText, "\n", " "))
	}
	n := len(rep.Rows)
	fmt.Fprintf(std.out, "questions: %d\n", n)
	fmt.Fprintf(std.out, "top-1: %d/%d = %.1f%%\n", round(rep.Top1*float64(n)), n, rep.Top1*100)
	fmt.Fprintf(std.out, "top-3: %d/%d = %.1f%%\n", round(rep.Top3*float64(n)), n, rep.Top3*100)
	fmt.Fprintf(std.out, "latency: p50 %v, p90 %v, p99 %v, max %v\n", rep.P50, rep.P90, rep.P99, rep.Max)
	return nil
}

func round(f float64) int { return int(f + 0.5) }
