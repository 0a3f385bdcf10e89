// Package batch commits many small writes together: each caller hands one item and waits until the
// batch holding it is durably written. Under load the batches grow by themselves (a writer takes
// everything that queued while the previous batch was committing), so one INSERT and one fsync serve
// many webhook requests; with no load a batch is one item and adds no delay.
package batch

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// ErrClosed is returned by Add after Close.
var ErrClosed = errors.New("batch: closed")

type pending[T any] struct {
	item T
	done chan error
}

// Writer groups items into calls of write. It runs `writers` goroutines, so that while one batch
// waits for its commit the next one is already being collected.
type Writer[T any] struct {
	write   func(ctx context.Context, items []T) error
	max     int
	queue   chan pending[T]
	wg      sync.WaitGroup
	closeMu sync.RWMutex
	closed  bool
}

// New starts a Writer. max bounds the batch size; writers is the number of concurrent commits.
func New[T any](write func(ctx context.Context, items []T) error, max, writers int) *Writer[T] {
	if max <= 0 {
		max = 256
	}
	if writers <= 0 {
		writers = 2
	}
	w := &Writer[T]{write: write, max: max, queue: make(chan pending[T], max*writers)}
	for i := 0; i < writers; i++ {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

// Add queues item and waits until it is written (or ctx ends: the item may still be written).
func (w *Writer[T]) Add(ctx context.Context, item T) error {
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		return ErrClosed
	}
	p := pending[T]{item: item, done: make(chan error, 1)}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.closeMu.RUnlock()
		return ctx.Err()
	}
	w.closeMu.RUnlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writers.
func (w *Writer[T]) Close() {
	w.closeMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.closeMu.Unlock()
	w.wg.Wait()
}

func (w *Writer[T]) loop() {
	defer w.wg.Done()
	batch := make([]pending[T], 0, w.max)
	items := make([]T, 0, w.max)
	for first := range w.queue {
		batch = append(batch[:0], first)
		if len(w.queue) == 0 {
			// The sender that woke this goroutine handed over its item and blocked; Go runs the woken
			// goroutine next, before the other runnable requests. Yield once so they can queue their
			// items too: on a busy single core this turns batches of one into batches of dozens, and it
			// costs nothing when nothing else is runnable.
			runtime.Gosched()
		}
	fill:
		for len(batch) < w.max {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		items = items[:0]
		for _, p := range batch {
			items = append(items, p.item)
		}
		err := w.write(context.Background(), items)
		for _, p := range batch {
			p.done <- err
		}
	}
}
