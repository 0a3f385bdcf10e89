package meetings_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

func TestPeek(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	c := e.Login(consoletest.Secretary)
	for _, p := range []string{fmt.Sprintf("/console/meetings/%d", m.ID), "/console/meetings", "/console/meetings/overdue", fmt.Sprintf("/console/meetings/%d/screen", m.ID), "/console/meetings/new"} {
		_, body := c.Get(p)
		os.WriteFile("/tmp/peek"+fmt.Sprint(len(p))+".html", []byte(body), 0o644)
	}
}
