package discordsim

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// RESTCalls counts each call by the status it was answered with: a role
// added, added again (a no-op Discord answers 204 all the same), removed,
// and refused once the member left, which leaves nothing in the world to
// tell it by.
func TestRESTCallsCountsByStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, nil)
	rc := restClient(t, s)
	g := guildOnShard(t, s, 0)
	role, err := s.CreateRole(ctx, g.ID, RoleOptions{Name: "timed"})
	require.NoError(t, err)
	u := g.Members[1]
	path := fmt.Sprintf("/guilds/%s/members/%s/roles/%s", g.ID, u, role.ID)

	require.Empty(t, s.RESTCalls(http.MethodPut, path))
	require.NoError(t, rc.AddMemberRole(sf(g.ID), sf(u), sf(role.ID)))
	require.NoError(t, rc.AddMemberRole(sf(g.ID), sf(u), sf(role.ID)))
	require.NoError(t, rc.RemoveMemberRole(sf(g.ID), sf(u), sf(role.ID)))
	require.NoError(t, s.MemberLeave(ctx, g.ID, u))
	require.Error(t, rc.AddMemberRole(sf(g.ID), sf(u), sf(role.ID)))

	require.Equal(t, map[int]int{http.StatusNoContent: 2, http.StatusNotFound: 1}, s.RESTCalls(http.MethodPut, path))
	require.Equal(t, map[int]int{http.StatusNoContent: 1}, s.RESTCalls(http.MethodDelete, path))
	require.Empty(t, s.RESTCalls(http.MethodPut, fmt.Sprintf("/guilds/%s/members/%s/roles/%s", g.ID, g.Members[2], role.ID)))
}
