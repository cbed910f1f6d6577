package discordsim

import (
	"net/http"
	"sync"
)

// RESTCall is a REST request the simulator answered: its method, its
// path under /api/v10 (ids and all, no query) and the status it got.
type RESTCall struct {
	Method string
	Path   string
	Status int
}

// restLog counts the REST requests answered, by call.
type restLog struct {
	mu    sync.Mutex
	calls map[RESTCall]int
}

func newRESTLog() *restLog { return &restLog{calls: map[RESTCall]int{}} }

func (l *restLog) add(c RESTCall) {
	l.mu.Lock()
	l.calls[c]++
	l.mu.Unlock()
}

// RESTCalls counts the requests made with method to path (under /api/v10,
// as "/guilds/1/members/2/roles/3") by the status they were answered
// with. A call Discord refuses changes nothing in the world; this is how a
// test tells it from a call never made.
func (s *Server) RESTCalls(method, path string) map[int]int {
	s.restLog.mu.Lock()
	defer s.restLog.mu.Unlock()
	out := map[int]int{}
	for c, n := range s.restLog.calls {
		if c.Method == method && c.Path == path {
			out[c.Status] += n
		}
	}
	return out
}

// statusWriter keeps the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
