package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"

	"gameday.dev/gameday/cluster/internal/docker"
)

// OfflineImage is the node image `make node-image` (hack/node-image/build.sh)
// builds where kindest/node cannot be pulled.
const OfflineImage = "gameday/node:offline"

// KindImage is kind's own default node image.
const KindImage = defaults.Image

// ErrNoImage means no node image is present and none can be pulled.
var ErrNoImage = errors.New("no node image")

// ResolveImage picks the node image: explicit (--image) or $GAMEDAY_NODE_IMAGE
// if set, else kind's image if present, else the offline image if present,
// else kind's image pulled now.
func ResolveImage(ctx context.Context, explicit string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv("GAMEDAY_NODE_IMAGE")
	}
	if explicit != "" {
		if !docker.ImageExists(ctx, explicit) {
			if err := pull(ctx, explicit); err != nil {
				return "", fmt.Errorf("%w: %s is not present and cannot be pulled: %v", ErrNoImage, explicit, err)
			}
		}
		return explicit, nil
	}
	for _, img := range []string{KindImage, OfflineImage} {
		if docker.ImageExists(ctx, img) {
			return img, nil
		}
	}
	if err := pull(ctx, KindImage); err != nil {
		return "", fmt.Errorf("%w: %s cannot be pulled (%v); build one without a registry with `make node-image`, or pass --image", ErrNoImage, KindImage, err)
	}
	return KindImage, nil
}

func pull(ctx context.Context, image string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err := docker.Run(ctx, "pull", image)
	return err
}
