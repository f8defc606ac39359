package reports

import (
	"fmt"
	"strings"
)

// The team's part of a game's debrief, in blameless words: what each person
// did and when, the goals, the hints, what surfaced, and changes after
// which a service broke (the change is named, not the person judged).

func (t *Team) scoreLine() string {
	line := fmt.Sprintf("team score %s/100", ScoreText(t.Score))
	if t.Par != nil {
		line += fmt.Sprintf(" (par %s/100: the scenario's scripted operator)", ScoreText(t.Par.Score))
	} else {
		line += " (no par: give --par with a replay of the scenario on this topology)"
	}
	return line
}

// timesLine gives the team's times with par's beside them.
func (t *Team) timesLine() string {
	item := func(what string, f, par *float64, none string) string {
		s := what + " " + optSeconds(f, none)
		if t.Par != nil {
			s += " (par " + optSeconds(par, none) + ")"
		}
		return s
	}
	var p Team
	if t.Par != nil {
		p = *t.Par
	}
	return fmt.Sprintf("paged at %s; %s, %s, %s", offset(t.PageSeconds),
		item("first action", t.TimeToFirstActionSeconds, p.TimeToFirstActionSeconds, "none"),
		item("mitigated", t.TimeToMitigateSeconds, p.TimeToMitigateSeconds, "never"),
		item("recovered", t.TimeToRecoverSeconds, p.TimeToRecoverSeconds, "never"))
}

func (g Goal) line() string {
	if g.AtSeconds == nil {
		return fmt.Sprintf("not reached: %s (%s)", g.Text, g.Step)
	}
	return fmt.Sprintf("%s %s (%s)", offset(*g.AtSeconds), g.Text, g.Step)
}

func (h Hint) line() string {
	return fmt.Sprintf("%s hint %s (%s): %s", offset(h.AtSeconds), h.N, h.Reason, h.Text)
}

func (h Harm) line() string {
	return fmt.Sprintf("%s %s's change \"%s\": %s, healthy until then, breached at %s", offset(h.AtSeconds), h.Player, h.Act, h.Service, offset(h.BreachSeconds))
}

func (f Fact) line() string {
	return fmt.Sprintf("%s %q (known to the %s card) reached %s: %s", offset(f.AtSeconds), f.Name, f.HeldBy, f.Player, f.How)
}

func (p Player) line() string {
	role := ""
	if p.Role != "" {
		role = " (" + p.Role + ")"
	}
	first := "made no request"
	if p.FirstSeconds != nil {
		first = "first request at " + offset(*p.FirstSeconds)
	}
	return fmt.Sprintf("%s%s: %s, %d changes and console actions, %s", p.Name, role, first, len(p.Acts), plural(p.Reads, "read"))
}

func (a Act) line() string {
	mark := ""
	if !a.OK {
		mark = " (refused)"
	}
	return fmt.Sprintf("%s %s%s", offset(a.AtSeconds), a.What, mark)
}

// writeTeamText is the team's part of WriteText.
func writeTeamText(ew *errWriter, t *Team) {
	ew.printf("\nthe team: %s\n", t.scoreLine())
	tw := newTabWriter(ew)
	for _, c := range t.Components {
		fmt.Fprintf(tw, "  %s\t-%.1f\t(%.0f x %s)\t%s\n", c.Name, c.Penalty, c.Weight, pct(c.Share), c.Detail)
	}
	tw.Flush()
	ew.printf("  %s\n", t.timesLine())
	if t.EndedBy != "" {
		ew.printf("  the game ended: %s\n", t.EndedBy)
	}
	ew.printf("goals:\n")
	for _, g := range t.Goals {
		ew.printf("  %s\n", g.line())
	}
	ew.printf("hints: %d of %d\n", len(t.HintsReleased), t.HintsAvailable)
	for _, h := range t.HintsReleased {
		ew.printf("  %s\n", h.line())
	}
	if len(t.Harmful) > 0 {
		ew.printf("changes after which a healthy service broke:\n")
		for _, h := range t.Harmful {
			ew.printf("  %s\n", h.line())
		}
	}
	if len(t.Facts) > 0 {
		ew.printf("what surfaced:\n")
		for _, f := range t.Facts {
			ew.printf("  %s\n", f.line())
		}
	}
	ew.printf("what each person did:\n")
	for _, p := range t.Players {
		ew.printf("  %s\n", p.line())
		for _, a := range p.Acts {
			ew.printf("    %s\n", a.line())
		}
	}
}

// writeTeamMarkdown is the team's part of WriteMarkdown.
func writeTeamMarkdown(ew *errWriter, t *Team) {
	ew.printf("\n## The team: %s\n\n", mdEscape(t.scoreLine()))
	ew.printf("| component | weight | share | penalty | what |\n|---|---:|---:|---:|---|\n")
	for _, c := range t.Components {
		ew.printf("| %s | %.0f | %s | -%.1f | %s |\n", c.Name, c.Weight, pct(c.Share), c.Penalty, mdEscape(c.Detail))
	}
	ew.printf("\n%s.", mdEscape(upperFirst(t.timesLine())))
	if t.EndedBy != "" {
		ew.printf(" The game ended: %s.", mdEscape(strings.TrimSuffix(t.EndedBy, ".")))
	}
	ew.printf("\n\n### Goals\n\n")
	for _, g := range t.Goals {
		ew.printf("- %s\n", mdEscape(g.line()))
	}
	ew.printf("\n### Hints: %d of %d\n\n", len(t.HintsReleased), t.HintsAvailable)
	for _, h := range t.HintsReleased {
		ew.printf("- %s\n", mdEscape(h.line()))
	}
	if len(t.Harmful) > 0 {
		ew.printf("\n### Changes after which a healthy service broke\n\n")
		for _, h := range t.Harmful {
			ew.printf("- %s\n", mdEscape(h.line()))
		}
	}
	if len(t.Facts) > 0 {
		ew.printf("\n### What surfaced\n\n")
		for _, f := range t.Facts {
			ew.printf("- %s\n", mdEscape(f.line()))
		}
	}
	ew.printf("\n### What each person did\n\n")
	for _, p := range t.Players {
		ew.printf("- **%s**\n", mdEscape(p.line()))
		for _, a := range p.Acts {
			ew.printf("  - %s\n", mdEscape(a.line()))
		}
	}
}
