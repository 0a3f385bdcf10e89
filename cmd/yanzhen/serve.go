package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/server"
)

// commonFlags are the flags every command that reads configuration takes.
type commonFlags struct {
	config    string
	logLevel  string
	logFormat string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML file with the same keys as the YANZHEN_* variables")
	fs.StringVar(&c.logLevel, "log-level", envOr("YANZHEN_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", envOr("YANZHEN_LOG_FORMAT", "text"), "text or json")
}

// load reads the configuration and builds the logger every command uses.
func (c *commonFlags) load(std stdio) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.config, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	return cfg, server.NewLogger(std.err, c.logLevel, c.logFormat), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newFlagSet(name string, std stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	return nil
}

func cmdServe(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("serve", std)
	var cf commonFlags
	cf.register(fs)
	demo := fs.Bool("demo", false, "load the demo county, roster and bind codes into an empty database")
	pprofAddr := fs.String("pprof", "", "serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060; keep it private)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, log, err := cf.load(std)
	if err != nil {
		return err
	}
	app, err := server.New(ctx, cfg, log, server.Options{Demo: *demo})
	if err != nil {
		return err
	}
	defer app.Close()
	if *pprofAddr != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			log.Warn("pprof: listening", "addr", *pprofAddr, "err", http.ListenAndServe(*pprofAddr, mux))
		}()
	}
	return app.Run(ctx)
}

func cmdMigrate(ctx context.Context, std stdio, args []string) error {
	fs := newFlagSet("migrate", std)
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, log, db, err := cf.loadDB(std)
	if err != nil {
		return err
	}
	defer closeDB(db)
	log.Info("migrate: schema is up to date")
	return nil
}
