package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/infra/apperr"
)

func (s *Server) listTenantMembers(c *gin.Context) {
	limit, after, err := pageParams(c, "after")
	if err != nil {
		writeError(c, err)
		return
	}
	tenantID := c.GetInt64(ctxTenant)
	if _, err := s.tenants.Get(c.Request.Context(), tenantID); err != nil {
		writeError(c, err)
		return
	}
	ops, err := s.store.Operators(c.Request.Context(), tenantID, after, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	var next *string
	if len(ops) == limit {
		n := strconv.FormatInt(ops[len(ops)-1].UserID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": ops, "next_after": next})
}

// RoleRequest grants a tenant role.
type RoleRequest struct {
	Role string `json:"role"`
}

// putTenantMember grants a tenant-wide role (audited by the operator
// store) and mirrors it into the casbin policy.
func (s *Server) putTenantMember(c *gin.Context) {
	ctx := c.Request.Context()
	userID, ok := userParam(c)
	if !ok {
		return
	}
	var req RoleRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		writeError(c, apperr.Invalid("role", "must be one of owner, admin, moderator, viewer"))
		return
	}
	tenantID := c.GetInt64(ctxTenant)
	if _, err := s.tenants.Get(ctx, tenantID); err != nil {
		writeError(c, err)
		return
	}
	if err := s.tenants.ForTenant(tenantID).Operators().Set(ctx, principalOf(c).actor(c), userID, req.Role); err != nil {
		writeError(c, err)
		return
	}
	if err := s.grantTenantRole(ctx, userID, tenantID, req.Role); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tenant_id": tenantID, "user_id": strconv.FormatInt(userID, 10), "role": req.Role})
}

// deleteTenantMember takes a tenant role away (owner only, audited; not
// the last owner) and from the casbin policy.
func (s *Server) deleteTenantMember(c *gin.Context) {
	ctx := c.Request.Context()
	userID, ok := userParam(c)
	if !ok {
		return
	}
	tenantID := c.GetInt64(ctxTenant)
	if err := s.tenants.ForTenant(tenantID).Operators().Remove(ctx, principalOf(c).actor(c), userID); err != nil {
		writeError(c, err)
		return
	}
	if err := s.grantTenantRole(ctx, userID, tenantID, ""); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// grantTenantRole mirrors a tenant role the operator store just recorded
// into the casbin policy, so it applies to the next request ("" takes
// the user's role away).
func (s *Server) grantTenantRole(ctx context.Context, userID, tenantID int64, role string) error {
	az, err := s.authz()
	if err != nil {
		return err
	}
	if role != "" {
		role = "role:" + role
	}
	return az.SetRole(ctx, auth.UserSubject(userID), auth.TenantDomain(tenantID), role)
}

// userParam is the :user path parameter, a Discord user id.
func userParam(c *gin.Context) (int64, bool) {
	userID, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil || userID <= 0 {
		writeError(c, apperr.Invalid("user", "must be a Discord user id"))
		return 0, false
	}
	return userID, true
}
