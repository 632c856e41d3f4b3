package jupyter

// DefaultLaunchTransport is Launch's transport when LaunchOptions names
// none: loopback TCP, as jupyter_client uses on Windows (AF_UNIX sockets
// are missing from older Windows and from Wine).
const DefaultLaunchTransport = "tcp"
