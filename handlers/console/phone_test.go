package console_test

import (
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// TestExportPhone: whole numbers for administrators of the installation, a county or a town; masked
// for a village's administrator, any secretary, and a viewer that is not there.
func TestExportPhone(t *testing.T) {
	const phone, masked = "13812341234", "138****1234"
	cases := []struct {
		name  string
		v     *console.Viewer
		whole bool
	}{
		{"installation", &console.Viewer{Role: models.ConsoleAdmin, Scope: scope.Everything()}, true},
		{"county", &console.Viewer{Role: models.ConsoleAdmin, Scope: scope.Under(1, "洪雅县")}, true},
		{"town", &console.Viewer{Role: models.ConsoleAdmin, Scope: scope.Under(2, "洪雅县/花溪镇")}, true},
		{"village admin", &console.Viewer{Role: models.ConsoleAdmin, Scope: scope.Under(3, "洪雅县/花溪镇/郭沟村")}, false},
		{"below a village", &console.Viewer{Role: models.ConsoleAdmin, Scope: scope.Under(4, "洪雅县/花溪镇/郭沟村/一组")}, false},
		{"county secretary", &console.Viewer{Role: models.ConsoleSecretary, Scope: scope.Under(1, "洪雅县")}, false},
		{"village secretary", &console.Viewer{Role: models.ConsoleSecretary, Scope: scope.Under(3, "洪雅县/花溪镇/郭沟村")}, false},
		{"admin without a scope", &console.Viewer{Role: models.ConsoleAdmin}, false},
		{"unknown role", &console.Viewer{Role: "viewer", Scope: scope.Everything()}, false},
		{"nobody", nil, false},
	}
	for _, c := range cases {
		want := masked
		if c.whole {
			want = phone
		}
		if got := c.v.SeesWholePhones(); got != c.whole {
			t.Errorf("%s: SeesWholePhones %v, want %v", c.name, got, c.whole)
		}
		if got := c.v.ExportPhone(phone); got != want {
			t.Errorf("%s: ExportPhone %q, want %q", c.name, got, want)
		}
	}
	// Not a number to mask: short values stay as they are, as in lists.
	if got := (&console.Viewer{Role: models.ConsoleSecretary}).ExportPhone("12345"); got != "12345" {
		t.Errorf("short value: %q", got)
	}
}
