package rules

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Effect type ids. Stored in rule documents: never rename one.
const (
	EffectCredit         = "credit"
	EffectDebit          = "debit"
	EffectGrantRole      = "grant_role"
	EffectRemoveRole     = "remove_role"
	EffectSendMessage    = "send_message"
	EffectDM             = "dm"
	EffectEmit           = "emit"
	EffectMilestoneCheck = "milestone_check"
)

// Recipients of an effect.
const (
	toActor  = "actor"
	toTarget = "target"
)

// maxAmount bounds one credit or debit.
const maxAmount = 1_000_000_000

func builtinEffects() []EffectType {
	return []EffectType{
		{ID: EffectCredit, Summary: "credit a currency; amount is a CEL expression (base, zone.multiplier, quality, ...)", Compile: compileAmount(true)},
		{ID: EffectDebit, Summary: "debit a currency; amount is a CEL expression", Compile: compileAmount(false)},
		{ID: EffectGrantRole, Summary: "grant a role, optionally for a duration", Compile: compileRole(true)},
		{ID: EffectRemoveRole, Summary: "remove a role", Compile: compileRole(false)},
		{ID: EffectSendMessage, Summary: "send a templated message or embed to a channel", Compile: compileSendMessage},
		{ID: EffectDM, Summary: "DM a member (skipped when the member opted out)", Compile: compileDM},
		{ID: EffectEmit, Summary: "emit an internal event that other rules can trigger on", Compile: compileEmit},
		{ID: EffectMilestoneCheck, Summary: "ask the milestone engine to check a member", Compile: compileMilestoneCheck},
	}
}

type planFunc func(ec *evalCtx, o *Origin) (Effect, error)

func (f planFunc) plan(ec *evalCtx, o *Origin) (Effect, error) { return f(ec, o) }

// checkTo validates an effect's recipient against the rule's triggers:
// "target" is a user only for replies and reactions.
func checkTo(cc *compileCtx, to *string, path string) error {
	if *to == "" {
		*to = toActor
	}
	switch *to {
	case toActor:
		return nil
	case toTarget:
		return cc.requireTriggers(path, `"to": "target"`, "message_create", "reaction_add", "reaction_remove")
	}
	return apperr.Invalid(path, "must be actor or target")
}

// --- credit / debit

func compileAmount(credit bool) func(*compileCtx, []byte, string) (effectPlan, error) {
	return func(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
		var p struct {
			Currency string  `json:"currency"`
			Amount   string  `json:"amount"`
			Base     float64 `json:"base"`
			To       string  `json:"to"`
		}
		if err := decodeParams(raw, &p, path); err != nil {
			return nil, err
		}
		if !validCurrency(p.Currency) {
			return nil, apperr.Invalid(path+".currency", "must be a currency code")
		}
		if p.Amount == "" {
			return nil, apperr.Invalid(path+".amount", "must be an expression, e.g. \"base * zone.multiplier * quality\"")
		}
		prg, err := cc.cel(p.Amount, path+".amount", celNumber)
		if err != nil {
			return nil, err
		}
		if err := checkTo(cc, &p.To, path+".to"); err != nil {
			return nil, err
		}
		cur, base, to := p.Currency, p.Base, p.To
		cc.currencyRefs = append(cc.currencyRefs, zoneRef{name: cur, path: path + ".currency"})
		if credit {
			if !contains(cc.currencies, cur) {
				cc.currencies = append(cc.currencies, cur)
			}
			for _, c := range cc.caps {
				if c.Currency == cur && !contains(c.tos, to) {
					c.tos = append(c.tos, to)
				}
			}
		}
		return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
			act, err := ec.vars(base, cur, prg.facts)
			if err != nil {
				return nil, err
			}
			f, err := prg.evalNumber(act)
			if err != nil {
				return nil, err
			}
			amount := int64(math.Round(f))
			if amount < 0 || amount > maxAmount {
				return nil, fmt.Errorf("amount %g is outside 0..%d", f, maxAmount)
			}
			user := ec.recipient(to)
			if amount == 0 || user == 0 {
				return nil, nil
			}
			if !credit {
				return Debit{Origin: *o, UserID: user, Currency: cur, Amount: amount}, nil
			}
			for _, c := range ec.rule.caps {
				if c.Currency != cur {
					continue
				}
				g, err := c.clip(ec, user, amount, o.Index)
				if err != nil {
					return nil, err
				}
				amount = g
			}
			if amount == 0 {
				return nil, nil
			}
			c := ec.credits.next()
			*c = Credit{Origin: *o, UserID: user, Currency: cur, Amount: amount}
			return c, nil
		}), nil
	}
}

// --- grant_role / remove_role

func compileRole(grant bool) func(*compileCtx, []byte, string) (effectPlan, error) {
	return func(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
		var p struct {
			Role            Snowflake `json:"role"`
			To              string    `json:"to"`
			DurationSeconds int64     `json:"duration_seconds"`
		}
		if err := decodeParams(raw, &p, path); err != nil {
			return nil, err
		}
		if p.Role <= 0 {
			return nil, apperr.Invalid(path+".role", "must be a role id")
		}
		if err := checkTo(cc, &p.To, path+".to"); err != nil {
			return nil, err
		}
		if !grant && p.DurationSeconds != 0 {
			return nil, apperr.Invalid(path+".duration_seconds", "only applies to grant_role")
		}
		if p.DurationSeconds < 0 || p.DurationSeconds > 366*86400 {
			return nil, apperr.Invalid(path+".duration_seconds", "must be between 0 (permanent) and 31622400 (366 days)")
		}
		role, to, dur := int64(p.Role), p.To, time.Duration(p.DurationSeconds)*time.Second
		return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
			user := ec.recipient(to)
			if user == 0 {
				return nil, nil
			}
			if !grant {
				return RemoveRole{Origin: *o, UserID: user, RoleID: role}, nil
			}
			g := GrantRole{Origin: *o, UserID: user, RoleID: role}
			if dur > 0 {
				exp := ec.ev.OccurredAt.Add(dur).UTC()
				g.ExpiresAt = &exp
			}
			return g, nil
		}), nil
	}
}

// --- send_message / dm

type embedParams struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Color       int    `json:"color"`
}

type compiledEmbed struct {
	title, desc *template
	color       int
}

func compileEmbed(e *embedParams, path string) (*compiledEmbed, error) {
	if e == nil {
		return nil, nil
	}
	t, err := compileTemplate(e.Title, path+".title", 256)
	if err != nil {
		return nil, err
	}
	d, err := compileTemplate(e.Description, path+".description", 4096)
	if err != nil {
		return nil, err
	}
	if e.Title == "" && e.Description == "" {
		return nil, apperr.Invalid(path, "must have a title or a description")
	}
	if e.Color < 0 || e.Color > 0xFFFFFF {
		return nil, apperr.Invalid(path+".color", "must be an RGB colour (0 to 16777215)")
	}
	return &compiledEmbed{title: t, desc: d, color: e.Color}, nil
}

func (c *compiledEmbed) render(ec *evalCtx) *Embed {
	if c == nil {
		return nil
	}
	return &Embed{Title: c.title.render(ec), Description: c.desc.render(ec), Color: c.color}
}

func compileSendMessage(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
	var p struct {
		Channel Snowflake    `json:"channel"`
		Content string       `json:"content"`
		Embed   *embedParams `json:"embed"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	content, embed, err := compileMessageBody(p.Content, p.Embed, path)
	if err != nil {
		return nil, err
	}
	channel := int64(p.Channel)
	return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
		ch := channel
		if ch == 0 {
			ch = ec.ev.ChannelID // 0: the event's channel
		}
		if ch == 0 {
			return nil, fmt.Errorf("event has no channel and the effect names none")
		}
		return SendMessage{Origin: *o, ChannelID: ch, Content: content.render(ec), Embed: embed.render(ec)}, nil
	}), nil
}

// compileMessageBody compiles a message's content template and embed; a
// message needs at least one of them.
func compileMessageBody(content string, e *embedParams, path string) (tmpl *template, emb *compiledEmbed, err error) {
	if tmpl, err = compileTemplate(content, path+".content", 2000); err != nil {
		return nil, nil, err
	}
	if emb, err = compileEmbed(e, path+".embed"); err != nil {
		return nil, nil, err
	}
	if content == "" && emb == nil {
		return nil, nil, apperr.Invalid(path+".content", "must be set when there is no embed")
	}
	return tmpl, emb, nil
}

func compileDM(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
	var p struct {
		To      string       `json:"to"`
		Content string       `json:"content"`
		Embed   *embedParams `json:"embed"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if err := checkTo(cc, &p.To, path+".to"); err != nil {
		return nil, err
	}
	content, embed, err := compileMessageBody(p.Content, p.Embed, path)
	if err != nil {
		return nil, err
	}
	to := p.To
	cc.needsFacts = true // the recipient's opt-out
	return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
		user := ec.recipient(to)
		if user == 0 {
			return nil, nil
		}
		m, err := ec.member(user)
		if err != nil {
			return nil, err
		}
		if m.DMOptOut || m.Bot {
			return nil, nil
		}
		return DM{Origin: *o, UserID: user, Content: content.render(ec), Embed: embed.render(ec)}, nil
	}), nil
}

// --- emit

func compileEmit(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
	var p struct {
		Event string            `json:"event"`
		To    string            `json:"to"`
		Data  map[string]string `json:"data"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if !internalEvents[p.Event] && !(strings.HasPrefix(p.Event, customPrefix) && validTrigger(p.Event)) {
		return nil, apperr.Invalid(path+".event", "must be an internal event (level.up, milestone.awarded, ...) or custom.<name>")
	}
	if err := checkTo(cc, &p.To, path+".to"); err != nil {
		return nil, err
	}
	if len(p.Data) > 16 {
		return nil, apperr.Invalid(path+".data", "must hold at most 16 fields")
	}
	type field struct {
		name string
		prg  *celProgram
	}
	var fields []field
	for _, k := range sortedKeys(p.Data) {
		if !validIdent(k) {
			return nil, apperr.Invalid(path+".data."+k, "is not a valid field name")
		}
		prg, err := cc.cel(p.Data[k], path+".data."+k, celAny)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{k, prg})
	}
	name, to := p.Event, p.To
	return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
		data := make(map[string]any, len(fields))
		if len(fields) > 0 {
			reads := false
			for _, f := range fields {
				reads = reads || f.prg.facts
			}
			act, err := ec.vars(0, "", reads)
			if err != nil {
				return nil, err
			}
			for _, f := range fields {
				v, err := f.prg.evalNative(act)
				if err != nil {
					return nil, err
				}
				data[f.name] = v
			}
		}
		chain := append(append(make([]int64, 0, len(ec.ev.Chain)+1), ec.ev.Chain...), ec.rule.ID)
		child := Event{Name: name, TenantID: ec.ev.TenantID, GuildID: ec.ev.GuildID, SourceID: derivedID(o.IdempotencyKey()),
			OccurredAt: ec.ev.OccurredAt, UserID: ec.recipient(to), ChannelID: ec.ev.ChannelID, Data: data, Chain: chain}
		return Emit{Origin: *o, Event: child}, nil
	}), nil
}

// --- milestone_check

func compileMilestoneCheck(cc *compileCtx, raw []byte, path string) (effectPlan, error) {
	var p struct {
		Milestone string `json:"milestone"`
		To        string `json:"to"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Milestone != "" && !validIdent(p.Milestone) {
		return nil, apperr.Invalid(path+".milestone", "must be a milestone key")
	}
	if err := checkTo(cc, &p.To, path+".to"); err != nil {
		return nil, err
	}
	ms, to := p.Milestone, p.To
	return planFunc(func(ec *evalCtx, o *Origin) (Effect, error) {
		user := ec.recipient(to)
		if user == 0 {
			return nil, nil
		}
		return MilestoneCheck{Origin: *o, UserID: user, Milestone: ms}, nil
	}), nil
}
