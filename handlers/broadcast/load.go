package broadcast

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The load test's side in this package (`yanzhen bench broadcast`, cmd/yanzhen/bench_broadcast.go):
// a roster of many members seeded straight into the database, and the figures of a finished run.

// LoadCounty is the county the load test's roster lives in.
const LoadCounty = "压测县"

// SeedLoad makes sure LoadCounty has n members (20 towns × 34 villages, about n/680 each, in runs of
// consecutive ids; every tenth member has no WeChat bound; member i's openid is "ld_i"), inserting
// only what is missing, 1,000 rows a statement.
func SeedLoad(ctx context.Context, db *gorm.DB, n int, progress io.Writer) error {
	db = db.WithContext(ctx)
	var villages []models.Org
	if err := db.Where("path LIKE ? AND level = ?", LoadCounty+"/%/%", models.LevelVillage).Order("id").Find(&villages).Error; err != nil {
		return err
	}
	if len(villages) == 0 {
		root := models.Org{Name: LoadCounty, Path: LoadCounty, Level: models.LevelCounty}
		if err := db.Create(&root).Error; err != nil {
			return fmt.Errorf("load: county: %w", err)
		}
		for t := range 20 {
			town := models.Org{ParentID: &root.ID, Name: fmt.Sprintf("第%d镇", t+1), Path: fmt.Sprintf("%s/第%d镇", LoadCounty, t+1), Level: models.LevelTown}
			if err := db.Create(&town).Error; err != nil {
				return fmt.Errorf("load: town: %w", err)
			}
			for v := range 34 {
				vil := models.Org{ParentID: &town.ID, Name: fmt.Sprintf("第%d村", v+1), Path: fmt.Sprintf("%s/第%d村", town.Path, v+1), Level: models.LevelVillage}
				if err := db.Create(&vil).Error; err != nil {
					return fmt.Errorf("load: village: %w", err)
				}
				villages = append(villages, vil)
			}
		}
	}
	var have int64
	if err := db.Model(&models.Member{}).Where("phone LIKE ?", "199%").Count(&have).Error; err != nil {
		return err
	}
	now := time.Now()
	for start := int(have); start < n; start += 1000 {
		end := min(start+1000, n)
		var sb strings.Builder
		sb.WriteString("INSERT INTO members (name, phone, role, org_id, oa_open_id, active, created_at, updated_at) VALUES ")
		args := make([]any, 0, (end-start)*8)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?)")
			var openID any
			if i%10 != 9 {
				openID = fmt.Sprintf("ld_%d", i)
			}
			role := models.RoleMember
			if i%50 == 0 {
				role = models.RoleSecretary
			}
			// Villages hold runs of consecutive members, as rosters imported village by village do.
			village := villages[i*len(villages)/max(n, 1)]
			args = append(args, fmt.Sprintf("压测党员%d", i), fmt.Sprintf("199%08d", i), role, village.ID, openID, true, now, now)
		}
		if err := db.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("load: members %d–%d: %w", start, end, err)
		}
		if progress != nil && (end%50000 == 0 || end == n) {
			fmt.Fprintf(progress, "bench: seeded %d members\n", end)
		}
	}
	return nil
}

// LoadFigures are a finished broadcast's figures for the load test's report.
type LoadFigures struct {
	Recipients       int64
	Expanded         time.Duration // from creation to the last delivery row
	FirstSent        time.Time
	LastSent         time.Time
	Counts           Counts
	ResultsPage      time.Duration // the broadcast page's queries (progress by state, reason and village; first page of recipients), median of 5
	ResultsPageWorst time.Duration
}

// Figures reads the figures of broadcast id.
func (s *Service) Figures(ctx context.Context, id uint) (*LoadFigures, error) {
	var b models.Broadcast
	if err := s.db.WithContext(ctx).Take(&b, id).Error; err != nil {
		return nil, err
	}
	f := &LoadFigures{Recipients: int64(b.Recipients)}
	if b.ExpandedAt != nil {
		f.Expanded = b.ExpandedAt.Sub(b.CreatedAt)
	}
	var span struct {
		First, Last *time.Time
	}
	s.db.WithContext(ctx).Model(&models.Delivery{}).Select("MIN(sent_at) AS first, MAX(sent_at) AS last").
		Where("broadcast_id = ? AND status = ?", id, models.DeliverySent).Scan(&span)
	if span.First != nil && span.Last != nil {
		f.FirstSent, f.LastSent = *span.First, *span.Last
	}
	var times []time.Duration
	for range 5 {
		start := time.Now()
		p, err := s.Progress(ctx, scope.Everything(), id, true)
		if err != nil {
			return nil, err
		}
		if _, _, err := s.Recipients(ctx, scope.Everything(), id, "", 0, 50, &p.Counts); err != nil {
			return nil, err
		}
		times = append(times, time.Since(start))
		f.Counts = p.Counts
	}
	for i := range times {
		for j := i + 1; j < len(times); j++ {
			if times[j] < times[i] {
				times[i], times[j] = times[j], times[i]
			}
		}
	}
	f.ResultsPage, f.ResultsPageWorst = times[2], times[4]
	return f, nil
}
