package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// cmdBroadcast records a notice in the database (any running server sends it within seconds, or the
// next one to start does) or prints how one is going. It needs only the database: a server's embedded
// Redis is out of reach, and the database is the source of truth anyway.
func cmdBroadcast(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usageError("broadcast: notice or status?")
	}
	what, args := args[0], args[1:]
	fs := newFlagSet("broadcast "+what, std)
	var cf commonFlags
	cf.register(fs)
	var orgs, roles stringList
	var text, link, title, at *string
	var approval, mass *bool
	switch what {
	case "notice":
		fs.Var(&orgs, "org", "an org's full path, e.g. 洪雅县/花溪镇 (repeat for more)")
		fs.Var(&roles, "role", "only members of this role: 党建专干, 书记, 党员 or 管理员 (repeat for more; none: every role)")
		text = fs.String("text", "", "the notice's text")
		link = fs.String("link", "", "a link to add (https://…)")
		title = fs.String("title", "", "the template message's first line (default 通知)")
		at = fs.String("at", "", `send at this time, "2026-01-31 08:00" in YANZHEN_TZ (default: now)`)
		approval = fs.Bool("approval", false, "wait for a console administrator's approval before sending")
		mass = fs.Bool("mass", false, "send by mass send to a WeChat tag (群发), as for a very large notice: a follower receives 4 a month, "+
			"those who had theirs get it one by one (default: by mass send from 10,000 members with WeChat, else one by one)")
	case "status":
	default:
		return usageError(fmt.Sprintf("broadcast: unknown command %q (notice, status)", what))
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if what == "notice" && (len(orgs) == 0 || strings.TrimSpace(*text) == "" || fs.NArg() > 0) {
		return usageError("broadcast notice --org PATH [--org PATH…] [--role ROLE…] --text TEXT")
	}
	var id uint64
	if what == "status" {
		var err error
		if fs.NArg() != 1 {
			return usageError("broadcast status ID")
		}
		if id, err = strconv.ParseUint(fs.Arg(0), 10, 32); err != nil || id == 0 {
			return usageError(fmt.Sprintf("broadcast status: %q is no broadcast id", fs.Arg(0)))
		}
	}
	cfg, log, db, err := cf.loadDB(std)
	if err != nil {
		return err
	}
	defer closeDB(db)
	con, err := console.New(console.Options{DB: db, Log: log, Location: cfg.Location})
	if err != nil {
		return err
	}
	svc := broadcast.New(db, log, time.Now, con.Record)
	if what == "status" {
		return broadcastStatus(ctx, std, svc, uint(id), cfg.Location)
	}

	in := broadcast.NoticeInput{OrgPaths: orgs, Roles: roles, Text: *text, Link: *link, Title: *title, NeedsApproval: *approval}
	if *mass {
		in.Channel = broadcast.ChannelMass
	}
	if *at != "" {
		t, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(*at), cfg.Location)
		if err != nil {
			return usageError(`broadcast notice: --at wants a time like "2026-01-31 08:00"`)
		}
		in.SendAt = t
	}
	b, err := svc.Create(ctx, nil, in)
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintf(std.out, "broadcast %d\n", b.ID)
	if b.Channel == models.SendMass {
		fmt.Fprintln(std.err, "按标签群发（本月已收满 4 条群发的人改为逐个发送）")
	}
	switch {
	case b.NeedsApproval:
		fmt.Fprintln(std.err, "等待管理员在控制台审批后发送")
	case b.SendAt.After(time.Now()):
		fmt.Fprintf(std.err, "将于 %s 发送\n", b.SendAt.In(cfg.Location).Format("2006-01-02 15:04"))
	default:
		fmt.Fprintln(std.err, "运行中的服务会在几秒内开始发送；查看进度：yanzhen broadcast status", b.ID)
	}
	return nil
}

// inputError turns the service's input errors into their Chinese message.
func inputError(err error) error {
	var ie *console.InputError
	if errors.As(err, &ie) {
		return errors.New(ie.Message)
	}
	return err
}

// broadcastStatus prints the contract's first line (queued= sent= failed= skipped=, then more fields),
// then the broadcast and the reasons of failures.
func broadcastStatus(ctx context.Context, std stdio, svc *broadcast.Service, id uint, loc *time.Location) error {
	b, err := svc.Get(ctx, id)
	if errors.Is(err, scope.ErrNotFound) {
		return fmt.Errorf("没有编号为 %d 的群发", id)
	}
	if err != nil {
		return err
	}
	p, err := svc.Progress(ctx, scope.Everything(), id, true)
	if err != nil {
		return err
	}
	channel := broadcast.ChannelDirect
	if b.Channel == models.SendMass {
		channel = broadcast.ChannelMass
	}
	fmt.Fprintf(std.out, "queued=%d sent=%d failed=%d skipped=%d cancelled=%d total=%d possible_duplicates=%d channel=%s status=%s\n",
		p.Queued, p.Sent, p.Failed, p.Skipped, p.Cancelled, p.Total(), p.Dup, channel, b.Status)
	orgs := make([]string, len(b.Orgs))
	for i, o := range b.Orgs {
		orgs[i] = o.Path
	}
	roles := "全体"
	if b.Roles != "" {
		roles = strings.ReplaceAll(b.Roles, ",", "、")
	}
	fmt.Fprintf(std.out, "群发 #%d · %s · %s · %s · 发送时间 %s\n", b.ID, broadcast.StatusNames[b.Status], strings.Join(orgs, "、"), roles,
		b.SendAt.In(loc).Format("2006-01-02 15:04"))
	fmt.Fprintf(std.out, "queued: %d 排队中（尚未最终完成）\n", p.Queued)
	fmt.Fprintf(std.out, "sent: %d 已被微信接收\n", p.Sent)
	fmt.Fprintf(std.out, "failed: %d 失败（微信拒绝或重试次数用完）\n", p.Failed)
	for _, r := range p.Reasons {
		if r.Status == "failed" {
			code := ""
			if r.ErrCode != 0 {
				code = fmt.Sprintf("（%d）", r.ErrCode)
			}
			fmt.Fprintf(std.out, "  %d %s%s\n", r.N, r.Reason, code)
		}
	}
	fmt.Fprintf(std.out, "skipped: %d 未绑定微信\n", p.Skipped)
	if p.Cancelled > 0 {
		fmt.Fprintf(std.out, "cancelled: %d 因取消未发送\n", p.Cancelled)
	}
	if p.Dup > 0 {
		fmt.Fprintf(std.out, "possible_duplicates: %d 可能重复收到（超时或服务重启后重发）\n", p.Dup)
	}
	return massStatus(ctx, std, svc, b, loc)
}

// massStatus prints a mass broadcast's mass send: tagged, sent, WeChat's report.
func massStatus(ctx context.Context, std stdio, svc *broadcast.Service, b *models.Broadcast, loc *time.Location) error {
	if b.Channel != models.SendMass {
		return nil
	}
	job, err := svc.MassOf(ctx, b.ID)
	if err != nil || job == nil {
		return err
	}
	sent := "未提交"
	switch {
	case job.SentAt != nil:
		sent = "已提交微信 " + job.SentAt.In(loc).Format("2006-01-02 15:04")
	case job.FailedAt != nil:
		sent = "失败：" + job.Reason
	case job.Attempts > 0:
		sent = fmt.Sprintf("%s，稍后重试（已试 %d 次）", job.Reason, job.Attempts)
	}
	fmt.Fprintf(std.out, "mass: 已打标签 %d 人 · %s · 接口调用 %d 次\n", job.Tagged, sent, job.Calls)
	if job.ReportedAt != nil {
		fmt.Fprintf(std.out, "mass_report: %s total=%d filter=%d sent=%d error=%d\n", job.JobStatus, job.TotalCount, job.FilterCount, job.SentCount, job.ErrorCount)
	}
	return nil
}
