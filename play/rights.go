// Package play holds what a game day adds to a run: the players' kits (their
// identities and an on-call engineer's rights on the cluster), and later the
// console, the goals and the team's score.
package play

import (
	"context"
	"errors"
	"fmt"
	"k8s.io/apimachinery/pkg/util/wait"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// PlayersGroup is the group every player's certificate puts them in; their
// rights are bound to it.
const PlayersGroup = "gameday:players"

// Label marks every object gameday makes for a game, so that it can remove
// them all afterwards.
const Label = "gameday.dev/play"

// ErrBadPlayer is bad input: a player name that cannot be one.
var ErrBadPlayer = errors.New("invalid player name")

// reserved names would pass for someone else in the cluster's audit log.
// (A DNS label has no ':', so no player can be a "system:" identity.)
var reserved = []string{"admin", "kubernetes-admin", "gameday", "system"}

// ValidatePlayers checks player names: each a DNS label (RFC 1123: lower
// case letters, digits and '-', at most 63), none reserved, none twice.
func ValidatePlayers(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: no players", ErrBadPlayer)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return fmt.Errorf("%w %q: %s", ErrBadPlayer, n, strings.Join(errs, "; "))
		}
		if slices.Contains(reserved, n) {
			return fmt.Errorf("%w %q: reserved (it would pass for a cluster identity in the audit log)", ErrBadPlayer, n)
		}
		if seen[n] {
			return fmt.Errorf("%w %q: named twice", ErrBadPlayer, n)
		}
		seen[n] = true
	}
	return nil
}

// Rights are the objects that give players an on-call engineer's rights:
//   - read everything a viewer may (Kubernetes' own "view" role: no Secrets,
//     no RBAC), in every namespace, and nodes, namespaces and storage;
//   - in the app namespace, change Deployments, ReplicaSets, Pods,
//     PodDisruptionBudgets, HorizontalPodAutoscalers, Services and
//     ConfigMaps; read logs, exec into pods, evict them (drain);
//   - cordon, drain and taint nodes: change a node's spec, never the
//     control-plane node's, never a node's labels (an admission policy).
//
// Nothing else: not kube-system, not RBAC, not gameday's own records
// (which live in kube-system), not the control-plane node.
type Rights struct {
	// Namespace is the app's: Pod Security's baseline is enforced there.
	Namespace           string
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
	Policy              *admissionv1.ValidatingAdmissionPolicy
	PolicyBinding       *admissionv1.ValidatingAdmissionPolicyBinding
}

const (
	readRole    = "gameday:player-read"
	nodesRole   = "gameday:player-nodes"
	appRole     = "gameday:player-app"
	nodesPolicy = "gameday-players-worker-nodes-only"
	// cpRefusal is the policy's answer to a player's change to the
	// control-plane node (RBAC's refusal says something else).
	cpRefusal = "players may not change the control-plane node"
)

// RightsFor returns the players' rights with the app in namespace app.
func RightsFor(app string) *Rights {
	meta := func(name, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{Label: "true"}}
	}
	players := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: PlayersGroup}}
	read := []string{"get", "list", "watch"}
	change := []string{"create", "update", "patch", "delete"}
	binding := func(role string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: meta(role, ""), Subjects: players,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
	}
	viewBinding := binding("view")
	viewBinding.Name = "gameday:player-view"
	fail := admissionv1.Fail
	forbidden := metav1.StatusReasonForbidden
	return &Rights{Namespace: app,
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: meta(readRole, ""), Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes", "namespaces", "persistentvolumes"}, Verbs: read},
				{APIGroups: []string{"storage.k8s.io", "scheduling.k8s.io", "node.k8s.io"}, Resources: []string{"*"}, Verbs: read},
			}},
			{ObjectMeta: meta(nodesRole, ""), Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"patch", "update"}},
			}},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{viewBinding, binding(readRole), binding(nodesRole)},
		Roles: []*rbacv1.Role{{ObjectMeta: meta(appRole, app), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "replicasets", "replicasets/scale"}, Verbs: change},
			{APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps"}, Verbs: change},
			{APIGroups: []string{""}, Resources: []string{"pods/exec", "pods/eviction"}, Verbs: []string{"create"}},
			{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: read},
			{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: change},
			{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: change},
		}}},
		RoleBindings: []*rbacv1.RoleBinding{{ObjectMeta: meta(appRole, app), Subjects: players,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: appRole}}},
		Policy: &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: meta(nodesPolicy, ""), Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Update, admissionv1.Delete},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"nodes"}},
				},
			}}},
			MatchConditions: []admissionv1.MatchCondition{{Name: "players-only",
				Expression: fmt.Sprintf("request.userInfo.groups.exists(g, g == '%s')", PlayersGroup)}},
			Validations: []admissionv1.Validation{
				{Expression: "request.operation == 'UPDATE'", Message: "players may not delete nodes", Reason: &forbidden},
				{Expression: "!has(oldObject.metadata.labels) || !('node-role.kubernetes.io/control-plane' in oldObject.metadata.labels)",
					Message: cpRefusal, Reason: &forbidden},
				{Expression: "request.operation != 'UPDATE' || (has(object.metadata.labels) == has(oldObject.metadata.labels) && (!has(object.metadata.labels) || object.metadata.labels == oldObject.metadata.labels))",
					Message: "players may cordon, drain and taint nodes, not relabel them", Reason: &forbidden},
			},
		}},
		PolicyBinding: &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: meta(nodesPolicy, ""), Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        nodesPolicy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		}},
	}
}

// WaitInForce waits until the players' admission policy refuses player (a
// client with a player's identity) a change to the control-plane node, cp:
// a new policy takes a moment to reach the API server's admission, and the
// players must not find that moment. Only the policy's own refusal counts:
// the players' rights to patch nodes are in force then too. It asks a dry
// run: nothing is stored.
func WaitInForce(ctx context.Context, player kubernetes.Interface, cp string, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, last = player.CoreV1().Nodes().Patch(ctx, cp, types.StrategicMergePatchType, []byte(`{"spec":{"unschedulable":true}}`),
			metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		// The policy's refusal, not RBAC's: the players' node rights may
		// reach the authorizer after the policy reaches admission.
		return apierrors.IsForbidden(last) && strings.Contains(last.Error(), cpRefusal), nil
	})
	if err != nil {
		return fmt.Errorf("the players' admission policy is not in force after %s (a player's change to node %s: %v): %w", timeout, cp, last, err)
	}
	return nil
}

// Grant creates the rights (existing ones are left as they are).
func Grant(ctx context.Context, client kubernetes.Interface, r *Rights) error {
	ok := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	for _, o := range r.ClusterRoles {
		if _, err := client.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{}); ok(err) != nil {
			return fmt.Errorf("cluster role %s: %w", o.Name, err)
		}
	}
	for _, o := range r.ClusterRoleBindings {
		if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{}); ok(err) != nil {
			return fmt.Errorf("cluster role binding %s: %w", o.Name, err)
		}
	}
	for _, o := range r.Roles {
		if _, err := client.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); ok(err) != nil {
			return fmt.Errorf("role %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	for _, o := range r.RoleBindings {
		if _, err := client.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); ok(err) != nil {
			return fmt.Errorf("role binding %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	if _, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, r.Policy, metav1.CreateOptions{}); ok(err) != nil {
		return fmt.Errorf("admission policy %s: %w", r.Policy.Name, err)
	}
	if _, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, r.PolicyBinding, metav1.CreateOptions{}); ok(err) != nil {
		return fmt.Errorf("admission policy binding %s: %w", r.PolicyBinding.Name, err)
	}
	return enforceBaseline(ctx, client, r.Namespace)
}

// Pod Security in the app namespace during a game: players may create pods
// there, and a privileged pod with the host's filesystem on the
// control-plane node would hand them the cluster. The baseline level
// forbids it (and the fixtures' pods meet it). A level the namespace had is
// kept; one gameday set is marked, for Revoke.
const (
	podSecurityEnforce = "pod-security.kubernetes.io/enforce"
	podSecuritySet     = "gameday.dev/play-pod-security"
)

func enforceBaseline(ctx context.Context, client kubernetes.Interface, ns string) error {
	n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	if _, has := n.Labels[podSecurityEnforce]; has {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"baseline"},"annotations":{%q:"true"}}}`, podSecurityEnforce, podSecuritySet)
	if _, err := client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("namespace %s: pod security: %w", ns, err)
	}
	return nil
}

// relaxBaseline takes back the level enforceBaseline set.
func relaxBaseline(ctx context.Context, client kubernetes.Interface, ns string) error {
	n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if n.Annotations[podSecuritySet] != "true" {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:null},"annotations":{%q:null}}}`, podSecurityEnforce, podSecuritySet)
	_, err = client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// Revoke deletes every object Grant made (by its label), wherever it is.
func Revoke(ctx context.Context, client kubernetes.Interface, app string) error {
	sel := metav1.ListOptions{LabelSelector: Label + "=true"}
	del := metav1.DeleteOptions{}
	rbac, adm := client.RbacV1(), client.AdmissionregistrationV1()
	return errors.Join(
		deleteAll(func() ([]string, error) { return names(adm.ValidatingAdmissionPolicyBindings().List(ctx, sel)) },
			func(n string) error { return adm.ValidatingAdmissionPolicyBindings().Delete(ctx, n, del) }),
		deleteAll(func() ([]string, error) { return names(adm.ValidatingAdmissionPolicies().List(ctx, sel)) },
			func(n string) error { return adm.ValidatingAdmissionPolicies().Delete(ctx, n, del) }),
		deleteAll(func() ([]string, error) { return names(rbac.RoleBindings(app).List(ctx, sel)) },
			func(n string) error { return rbac.RoleBindings(app).Delete(ctx, n, del) }),
		deleteAll(func() ([]string, error) { return names(rbac.Roles(app).List(ctx, sel)) },
			func(n string) error { return rbac.Roles(app).Delete(ctx, n, del) }),
		deleteAll(func() ([]string, error) { return names(rbac.ClusterRoleBindings().List(ctx, sel)) },
			func(n string) error { return rbac.ClusterRoleBindings().Delete(ctx, n, del) }),
		deleteAll(func() ([]string, error) { return names(rbac.ClusterRoles().List(ctx, sel)) },
			func(n string) error { return rbac.ClusterRoles().Delete(ctx, n, del) }),
		relaxBaseline(ctx, client, app),
	)
}

// names are the names of a list's items.
func names(list runtime.Object, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		a, err := meta.Accessor(it)
		if err != nil {
			return nil, err
		}
		out = append(out, a.GetName())
	}
	return out, nil
}

// deleteAll deletes what list names; one already gone is no error.
func deleteAll(list func() ([]string, error), del func(string) error) error {
	ns, err := list()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ns {
		if err := del(n); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
