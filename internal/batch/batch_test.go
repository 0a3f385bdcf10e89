package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEveryItemWrittenOnceAndBatched(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	var calls atomic.Int32
	w := New(func(_ context.Context, items []int) error {
		calls.Add(1)
		time.Sleep(2 * time.Millisecond) // a commit takes time: others queue meanwhile
		mu.Lock()
		for _, i := range items {
			seen[i]++
		}
		mu.Unlock()
		return nil
	}, 64, 2)
	var wg sync.WaitGroup
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := w.Add(context.Background(), i); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	w.Close()
	for i := 0; i < 500; i++ {
		if seen[i] != 1 {
			t.Fatalf("item %d written %d times", i, seen[i])
		}
	}
	if calls.Load() >= 500 {
		t.Fatalf("%d writes for 500 items: nothing was batched", calls.Load())
	}
	if err := w.Add(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
}

func TestWriteErrorReachesEveryCaller(t *testing.T) {
	boom := errors.New("disk full")
	w := New(func(context.Context, []string) error { return boom }, 8, 1)
	defer w.Close()
	if err := w.Add(context.Background(), "x"); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}
