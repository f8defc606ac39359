//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/play"
)

// playerSpecs check a player's kit against the API server itself: their
// identity, and an on-call engineer's rights, no more. Every change is a
// server-side dry run: authorization and admission run, nothing is stored.
func playerSpecs(e *env) {
	ctx := context.Background()
	var alice kubernetes.Interface
	dry := []string{metav1.DryRunAll}

	setupAll(func() {
		Expect(play.Grant(ctx, e.client, play.RightsFor(fixtures.Namespace))).To(Succeed())
		DeferCleanup(func() { Expect(play.Revoke(ctx, e.client, fixtures.Namespace)).To(Succeed()) })
		start := time.Now()
		creds, err := play.Issue(ctx, e.client, "alice", time.Hour)
		Expect(err).NotTo(HaveOccurred())
		path := filepath.Join(GinkgoT().TempDir(), "alice", "kubeconfig")
		Expect(play.WriteKubeconfig(path, e.rec.Kubeconfig, e.name, fixtures.Namespace, creds)).To(Succeed())
		AddReportEntry("a player's certificate and kubeconfig "+e.topoName, time.Since(start).Round(10*time.Millisecond).String())
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		Expect(err).NotTo(HaveOccurred())
		alice, err = kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		// As a game does before its clock starts: the policy is in force.
		cp, err := e.nodes.ControlPlaneNode(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(play.WaitInForce(ctx, alice, cp, time.Minute)).To(Succeed())
	})

	It("gives a player their own identity, in the players' group", func() {
		r, err := alice.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Status.UserInfo.Username).To(Equal("alice"))
		Expect(r.Status.UserInfo.Groups).To(ContainElement(play.PlayersGroup))
	})

	It("lets a player read everything and change what an on-call engineer changes", func() {
		_, err := alice.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred(), "list pods everywhere")
		_, err = alice.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred(), "list nodes")
		pods, err := alice.CoreV1().Pods(fixtures.Namespace).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(pods.Items).NotTo(BeEmpty())
		_, err = alice.CoreV1().Pods(fixtures.Namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{}).DoRaw(ctx)
		Expect(err).NotTo(HaveOccurred(), "read an app pod's logs")
		_, err = alice.AppsV1().Deployments(fixtures.Namespace).Patch(ctx, string(fixtures.Workers), types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"e2e":"rollback"}}}`), metav1.PatchOptions{DryRun: dry})
		Expect(err).NotTo(HaveOccurred(), "change a deployment in the app namespace")
		Expect(alice.CoreV1().Pods(fixtures.Namespace).Delete(ctx, pods.Items[0].Name, metav1.DeleteOptions{DryRun: dry})).To(Succeed(), "delete an app pod")
		pool := "app"
		if e.topoName == "separate" {
			pool = "backend"
		}
		worker := e.workerOf(ctx, pool)
		_, err = alice.CoreV1().Nodes().Patch(ctx, worker, types.StrategicMergePatchType,
			[]byte(`{"spec":{"unschedulable":true,"taints":[{"key":"e2e","value":"x","effect":"NoSchedule"}]}}`), metav1.PatchOptions{DryRun: dry})
		Expect(err).NotTo(HaveOccurred(), "cordon and taint a worker node")
	})

	It("refuses a player everything else, at the API server", func() {
		forbidden := func(what string, err error) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: got %v, want 403 Forbidden", what, err)
		}
		cp, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/control-plane"})
		Expect(err).NotTo(HaveOccurred())
		Expect(cp.Items).To(HaveLen(1))
		_, err = alice.CoreV1().Nodes().Patch(ctx, cp.Items[0].Name, types.StrategicMergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{DryRun: dry})
		forbidden("cordon the control-plane node", err)
		anyWorker, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "!node-role.kubernetes.io/control-plane"})
		Expect(err).NotTo(HaveOccurred())
		w := anyWorker.Items[0].Name
		_, err = alice.CoreV1().Nodes().Patch(ctx, w, types.MergePatchType, []byte(`{"metadata":{"labels":{"`+cluster.PoolLabel+`":"elsewhere"}}}`), metav1.PatchOptions{DryRun: dry})
		forbidden("relabel a worker node", err)
		forbidden("delete a worker node", alice.CoreV1().Nodes().Delete(ctx, w, metav1.DeleteOptions{DryRun: dry}))
		_, err = alice.CoreV1().ConfigMaps(metav1.NamespaceSystem).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e"}}, metav1.CreateOptions{DryRun: dry})
		forbidden("create in kube-system", err)
		_, err = alice.CoreV1().ConfigMaps(metav1.NamespaceSystem).Patch(ctx, cluster.MarkerConfigMap, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"e2e":"x"}}}`), metav1.PatchOptions{DryRun: dry})
		forbidden("change gameday's record of the cluster", err)
		_, err = alice.CoreV1().Secrets(fixtures.Namespace).List(ctx, metav1.ListOptions{})
		forbidden("read secrets", err)
		_, err = alice.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-escalate"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "alice"}}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}},
			metav1.CreateOptions{DryRun: dry})
		forbidden("bind themselves to cluster-admin", err)
		forbidden("delete the app namespace", alice.CoreV1().Namespaces().Delete(ctx, fixtures.Namespace, metav1.DeleteOptions{DryRun: dry}))
		forbidden("delete the players' admission policy", alice.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx,
			"gameday-players-worker-nodes-only", metav1.DeleteOptions{DryRun: dry}))
		// A pod with the host's filesystem on the control-plane node would
		// hand a player its admin kubeconfig: Pod Security's baseline.
		priv := true
		_, err = alice.CoreV1().Pods(fixtures.Namespace).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "e2e-escape"},
			Spec: corev1.PodSpec{NodeName: cp.Items[0].Name, Containers: []corev1.Container{{Name: "c", Image: "x",
				SecurityContext: &corev1.SecurityContext{Privileged: &priv},
				VolumeMounts:    []corev1.VolumeMount{{Name: "host", MountPath: "/host"}}}},
				Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}}},
			metav1.CreateOptions{DryRun: dry})
		forbidden("run a privileged pod with the host's filesystem", err)
	})
}
