package kernel

import (
	"context"

	"webrepl-kernel/jupyter"
)

// inspect answers inspect_request (Shift-Tab, obj?).
func (k *Kernel) inspect(ctx context.Context, r *jupyter.Request) {
	k.reply(r, jupyter.InspectReply{Status: jupyter.StatusOK})
}
