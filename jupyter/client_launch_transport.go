//go:build !windows

package jupyter

// DefaultLaunchTransport is Launch's transport when LaunchOptions names
// none: unix sockets in a private folder, so no port can be taken by
// another process between choosing and binding it.
const DefaultLaunchTransport = "ipc"
