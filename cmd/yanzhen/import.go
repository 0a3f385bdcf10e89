package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/yanzhen/yanzhen/handlers/roster"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
)

func cmdImport(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usageError("import: what? roster, questions, policies or places")
	}
	what, args := args[0], args[1:]
	fs := newFlagSet("import "+what, std)
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch what {
	case "roster", "questions", "places":
		if fs.NArg() != 1 {
			return usageError("import " + what + " FILE")
		}
	case "policies":
		if fs.NArg() == 0 {
			return usageError("import policies PATH...")
		}
	default:
		return usageError(fmt.Sprintf("import: unknown kind %q (roster, questions, policies, places)", what))
	}
	cfg, log, db, err := cf.loadDB(std)
	if err != nil {
		return err
	}
	defer closeDB(db)
	switch what {
	case "policies":
		return importPolicies(ctx, std, cfg, db, log, fs.Args())
	case "places":
		return importPlaces(ctx, std, cfg, db, log, fs.Arg(0))
	}

	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if what == "questions" {
		return importQuestions(ctx, std, bank.New(db, log, time.Now), f, path)
	}
	res, err := roster.New(db, log, time.Now).Import(ctx, f, path)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintf(std.err, "%s:%d: %s\n", path, e.Line, e.Reason)
	}
	fmt.Fprintf(std.err, "roster: %d created, %d updated, %d unchanged, %d rows with errors\n",
		res.Created, res.Updated, res.Unchanged, len(res.Errors))
	w := csv.NewWriter(std.out)
	w.Write([]string{"姓名", "手机号", "绑定码"})
	for _, m := range res.Unbound {
		w.Write([]string{m.Name, m.Phone, m.BindCode})
	}
	w.Flush()
	return w.Error()
}

// importQuestions imports a question bank file: the rows with errors (FILE:LINE: reason) go to stderr,
// the summary to stdout.
func importQuestions(ctx context.Context, std stdio, b *bank.Service, r io.Reader, path string) error {
	res, err := b.Import(ctx, r, path)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintf(std.err, "%s:%d: %s\n", path, e.Line, e.Reason)
	}
	_, err = fmt.Fprintf(std.out, "questions: %d created, %d updated, %d unchanged, %d rows with errors\n",
		res.Created, res.Updated, res.Unchanged, len(res.Errors))
	return err
}
