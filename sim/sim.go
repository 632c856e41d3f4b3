// Package sim is a simulated MicroPython ESP32/ESP8266 board that speaks
// WebREPL byte for byte like the real firmware (docs/protocol/webrepl.md §1–§2, §8).
//
// The Go side owns the network: a hand-written WebSocket server with the
// board's handshake and framing quirks, the password prompt, the
// single-client policy, file transfer on a flash folder, and the link model
// (latency, the ESP32 and ESP8266 input-loss models of §5). The interpreter
// is real MicroPython (its WebAssembly port) in a supervised Node process,
// whose sources (sim/board) are embedded in the binary; resets replace that
// process and drop the WebREPL client, as a board's reboot does. A Host
// runs many boards in one Node process instead, a worker thread each. A Fault
// makes the board a bad peer on purpose. What it models and why:
// docs/protocol/simulator.md.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a simulated board. The zero value is a usable esp32
// board on a free port with password "secret".
type Options struct {
	Addr     string // "127.0.0.1:0" picks a free port (the default)
	Password string // default "secret"; at most 9 bytes, as on the board
	Profile  string // "esp32" (default), "esp8266", "ideal"
	// Firmware is the MicroPython release modelled: "1.28" (DefaultFirmware)
	// or "1.27". It decides the ESP32's console input path (v1.28 reads the
	// socket while the REPL waits; v1.27 only every DrainPeriod) and is what
	// GET_VER, sys.implementation, os.uname and the banner report
	// (docs/protocol/simulator.md §4).
	Firmware    string
	Latency     time.Duration // one-way delay added to each direction
	DrainPeriod time.Duration // esp32 drain period; default 80ms (tests use shorter)
	FlashDir    string        // "" = a temporary folder removed on Close
	ResetAfter  time.Duration // default 5s
	BootDelay   time.Duration // default 250ms; a hard reset takes twice as long
	Log         io.Writer     // optional
	// Fault makes the board misbehave on purpose (see Fault); "" is a
	// correct board. Board.SetFault changes it later.
	Fault Fault
	// NoRawPaste makes the board's raw REPL lack raw-paste mode, as
	// MicroPython before 1.14 does (docs/protocol/webrepl.md §4.1).
	NoRawPaste bool
	// DeafWhilePrinting models an ESP32 in a loop that prints without ever
	// sleeping (ESP32 profile only): its socket is read only from the
	// event-poll hook, which such a loop never reaches, so nothing the
	// client sends (Ctrl-C included) is read while the board prints; what
	// arrived is read once a DrainPeriod passes without output or the
	// program ends (docs/protocol/simulator.md §4.6). ResetAfter's timer
	// starts only when a Ctrl-C is read, so such a board prints until its
	// program ends or PressReset.
	DeafWhilePrinting bool
	// Serial offers the board's console (its UART REPL) on a pseudo-terminal,
	// as a board on a USB cable is (Board.SerialPath), and makes WebREPL
	// start as on a fresh ESP32: off, until the board runs webrepl.start()
	// (from boot.py, with webrepl_cfg.PASS or a password given), which makes
	// the Go side serve with that password; a reset turns it off again until
	// boot.py starts it. Linux only.
	Serial bool
	// SerialLink, if set with Serial, is a path made a symlink to the
	// pseudo-terminal (sim --serial PATH).
	SerialLink string
	// WiFi, if set, is the one network the board's network.WLAN can join
	// (docs/protocol/simulator.md §3); the station's address is then the
	// host of Addr (127.0.0.1 for an unspecified one), where the host
	// reaches its WebREPL. Nil: any network joins, at 192.168.1.42.
	WiFi *WiFi
	// Modules is a ready node_modules folder for the board's npm package,
	// used instead of running `npm ci`; "" means $WEBREPL_SIM_MODULES, if set.
	// A board on a Host uses the Host's.
	Modules string
	// Host, if set, runs the board in that shared Node process, as a worker
	// thread of its own (docs/protocol/simulator.md §7); nil gives the board
	// a Node process of its own.
	Host *Host

	// nodeCommand replaces `node main.mjs ARGS` (package tests use a fake).
	nodeCommand func(args []string) *exec.Cmd
}

// WiFi is a simulated Wi-Fi network: its name and key.
type WiFi struct{ SSID, Key string }

// Defaults for Options.
const (
	DefaultPassword    = "secret"
	DefaultDrainPeriod = 80 * time.Millisecond
	DefaultResetAfter  = 5 * time.Second
	DefaultBootDelay   = 250 * time.Millisecond
	maxBoardPassword   = 9
	startupTimeout     = 60 * time.Second // first boot, npm ci excluded
)

// Board is a running simulated board. Its methods are safe for concurrent use.
type Board struct {
	opts     Options
	profile  linkProfile
	firmware firmware
	replIdle *replIdle // the REPL waits for input (not running code)
	flashDir string
	tmpFlash bool
	logf     func(format string, args ...any)
	// start starts a board process; the event loop calls it at boot and
	// on every reset.
	start func(ctx context.Context, gen int, raw bool, cb nodeCallbacks) (boardProcess, error)

	url        string
	events     chan event
	cancel     context.CancelFunc
	done       chan struct{} // closed when the event loop has ended and cleaned up
	servingGen atomic.Int64  // the generation being served, 0 while rebooting
	stalls     atomic.Int64  // see Stalls
	fault      atomic.Pointer[Fault]
	// outputTo is the session console output goes to, read by the board
	// process's reader to hold output back while that client is not reading.
	outputTo atomic.Pointer[session]

	closeOnce sync.Once

	mu             sync.Mutex
	pins           map[int]int
	pwms           map[int]PWMState
	droppedBase    int64
	droppedNow     int64
	soft, hard     int
	conns          map[net.Conn]struct{}
	pid            int // of the current board process
	password       string
	textFrames     TextFrameStats
	rawPastes      int
	rawPasteExcess int
	failure        error // why the board died, if it did

	serial *serialConsole // Options.Serial's console, nil without
}

// Start boots a board and returns once its WebREPL server accepts
// connections. ctx bounds the start-up only; the board runs until Close.
func Start(ctx context.Context, opts Options) (*Board, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if len(opts.Password) > maxBoardPassword {
		return nil, fmt.Errorf("password is %d bytes; the board accepts at most %d", len(opts.Password), maxBoardPassword)
	}
	fw, err := lookupFirmware(opts.Firmware)
	if err != nil {
		return nil, err
	}
	opts.Firmware = fw.short()
	profile, err := lookupProfile(opts.Profile, fw)
	if err != nil {
		return nil, err
	}
	opts.Profile = profile.name
	profile.deafWhilePrinting = opts.DeafWhilePrinting
	if opts.DrainPeriod <= 0 {
		opts.DrainPeriod = DefaultDrainPeriod
	}
	if opts.ResetAfter <= 0 {
		opts.ResetAfter = DefaultResetAfter
	}
	if opts.BootDelay <= 0 {
		opts.BootDelay = DefaultBootDelay
	}
	if opts.DeafWhilePrinting && profile.name != "esp32" {
		return nil, fmt.Errorf("DeafWhilePrinting models an ESP32, not the %s profile", profile.name)
	}
	if opts.Latency < 0 {
		return nil, errors.New("latency must not be negative")
	}
	if err := opts.Fault.validate(); err != nil {
		return nil, err
	}
	if opts.Modules == "" {
		opts.Modules = os.Getenv(modulesEnv)
	}
	b := &Board{
		opts:     opts,
		profile:  profile,
		firmware: fw,
		replIdle: newReplIdle(),
		events:   make(chan event, 256),
		done:     make(chan struct{}),
		pins:     map[int]int{},
		pwms:     map[int]PWMState{},
		password: opts.Password,
		conns:    map[net.Conn]struct{}{},
	}
	b.fault.Store(&opts.Fault)
	b.logf = func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}
	if opts.FlashDir == "" {
		dir, err := os.MkdirTemp("", "webrepl-sim-flash-")
		if err != nil {
			return nil, fmt.Errorf("creating the board's flash folder: %w", err)
		}
		b.flashDir, b.tmpFlash = dir, true
	} else {
		if err := os.MkdirAll(opts.FlashDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the board's flash folder: %w", err)
		}
		b.flashDir = opts.FlashDir
	}
	if err := b.prepareCommand(ctx); err != nil {
		b.removeFlash()
		return nil, err
	}
	if opts.Serial {
		if b.serial, err = openSerialConsole(opts.SerialLink, b.logf); err != nil {
			b.removeFlash()
			return nil, err
		}
	}

	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	ready := make(chan error, 1)
	go b.run(runCtx, ready)
	startCtx, stop := context.WithTimeout(ctx, startupTimeout)
	defer stop()
	select {
	case err := <-ready:
		if err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	case <-startCtx.Done():
		b.Close()
		return nil, fmt.Errorf("waiting for the simulated board to boot: %w", startCtx.Err())
	}
}

// prepareCommand sets up how board processes are started.
func (b *Board) prepareCommand(ctx context.Context) error {
	args := []string{"--fs", b.flashDir, "--queue", fmt.Sprint(b.profile.ringCapacity), "--firmware", b.firmware.String()}
	if b.opts.NoRawPaste {
		args = append(args, "--no-raw-paste")
	}
	if b.profile.directRead {
		args = append(args, "--direct-read")
	}
	if b.profile.vmHook {
		args = append(args, "--vm-hook")
	}
	if b.opts.Serial {
		args = append(args, "--webrepl-off")
	}
	if w := b.opts.WiFi; w != nil {
		host, _, err := net.SplitHostPort(b.opts.Addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		args = append(args, "--wifi-ssid", w.SSID, "--wifi-key", w.Key, "--wifi-ip", host)
	}
	withRaw := func(raw bool) []string {
		a := append([]string(nil), args...)
		if raw {
			a = append(a, "--raw")
		}
		return a
	}
	ownProcess := func(command func(raw bool) *exec.Cmd) {
		b.start = func(ctx context.Context, gen int, raw bool, cb nodeCallbacks) (boardProcess, error) {
			return startNode(ctx, gen, command(raw), b.opts.Log, cb)
		}
	}
	if b.opts.Host != nil {
		if b.opts.nodeCommand != nil {
			return errors.New("a board on a Host cannot use a fake board process")
		}
		b.start = func(ctx context.Context, gen int, raw bool, cb nodeCallbacks) (boardProcess, error) {
			spec := hostBoardSpec{Args: withRaw(raw), Port: b.profile.port(), LogName: "sim/board " + b.url}
			return b.opts.Host.startBoard(ctx, gen, spec, cb)
		}
		return nil
	}
	if b.opts.nodeCommand != nil {
		ownProcess(func(raw bool) *exec.Cmd { return b.opts.nodeCommand(withRaw(raw)) })
		return nil
	}
	rt, err := prepareRuntime(ctx, b.opts.Modules, b.opts.Log)
	if err != nil {
		return err
	}
	ownProcess(func(raw bool) *exec.Cmd {
		cmd := exec.Command(rt.node, append([]string{"main.mjs"}, withRaw(raw)...)...)
		cmd.Dir = rt.dir
		cmd.Env = append(os.Environ(), "WEBREPL_SIM_PORT="+b.profile.port())
		if rt.modules != "" {
			// main.mjs reads it too; relative to the cache directory it would be wrong.
			cmd.Env = append(cmd.Env, modulesEnv+"="+rt.modules)
		}
		return cmd
	})
	return nil
}

// URL is the board's WebREPL address, "ws://127.0.0.1:PORT/".
func (b *Board) URL() string { return b.url }

// SerialPath is where the board's serial console is opened (Options.Serial:
// the symlink if one was asked for, else /dev/pts/N); "" without one.
func (b *Board) SerialPath() string {
	if b.serial == nil {
		return ""
	}
	return b.serial.Path()
}

// Password is the WebREPL password.
func (b *Board) Password() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.password
}

// SetPassword changes the password clients must give from the next login
// on, as editing webrepl_cfg.py does (the firmware reads it when WebREPL
// starts); the client logged in stays.
func (b *Board) SetPassword(password string) error {
	if password == "" || len(password) > maxBoardPassword {
		return fmt.Errorf("password is %d bytes; the board accepts 1 to %d", len(password), maxBoardPassword)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.password = password
	return nil
}

// Firmware is the MicroPython release the board models, e.g. "1.28".
func (b *Board) Firmware() string { return b.firmware.short() }

// FlashDir is the host folder holding the board's files.
func (b *Board) FlashDir() string { return b.flashDir }

// Pin returns the last value a program set on GPIO n (ok is false if it
// was never set since the last hard reset).
func (b *Board) Pin(n int) (value int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	value, ok = b.pins[n]
	return value, ok
}

// PWMState is what a program last set on a PWM output.
type PWMState struct {
	Freq int // Hz
	Duty int // 0 to 1023, as machine.PWM.duty() reads it
}

// PWM returns the PWM output a program drives on GPIO n (ok is false if it
// has none: never set since the last hard reset, or deinit called).
func (b *Board) PWM(n int) (state PWMState, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	state, ok = b.pwms[n]
	return state, ok
}

// DroppedBytes is the number of console input bytes the board's stdin
// ring has dropped since Start (ESP32/ESP8266 overflow).
func (b *Board) DroppedBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.droppedBase + b.droppedNow
}

// Stalls counts the times the simulator itself fell behind the board it
// models, because the machine it runs on kept it off the CPU: a drain of
// received input (esp32) that came more than two DrainPeriods after the one
// before, or input that overflowed the stdin ring while the ring still held
// bytes the board's REPL, waiting for input, had not read yet (a real
// board's REPL reads them at once). Input a board loses in such a stall is
// the test machine's doing, not the client's; tests of clients without flow
// control (paced mode) tell the two apart with it.
func (b *Board) Stalls() int64 { return b.stalls.Load() }

// TextFrameStats describes the text frames clients have sent the board.
type TextFrameStats struct {
	Frames  int // text frames and their continuations
	Empty   int // of which carried no payload (a keep-alive)
	Largest int // payload bytes of the largest
}

// TextFrames tells what text frames clients have sent since Start (the
// password's included), e.g. to check how a client paces what it types.
func (b *Board) TextFrames() TextFrameStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.textFrames
}

func (b *Board) countTextFrame(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.textFrames.Frames++
	if n == 0 {
		b.textFrames.Empty++
	}
	b.textFrames.Largest = max(b.textFrames.Largest, n)
}

// RawPasteCredit tells how clients used the raw-paste flow-control credit
// (docs/protocol/webrepl.md §4) in the uploads since Start. Whenever the
// board took a byte of an upload it compared the program bytes that had
// arrived with the credit it had granted; mostBeyond is the largest
// difference seen: -1 for a client that keeps one byte in hand, 0 for one
// that uses all of its credit, more for one that overruns it. uploads is
// how many raw-paste uploads were measured (mostBeyond is 0 when none).
func (b *Board) RawPasteCredit() (mostBeyond, uploads int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rawPasteExcess, b.rawPastes
}

// Resets counts the soft and hard resets since Start.
func (b *Board) Resets() (soft, hard int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.soft, b.hard
}

// PressReset acts like the board's reset button (or a brown-out): a hard
// reset. The WebREPL client is dropped, RAM state and pin states are lost,
// the flash folder stays, and the server accepts connections again after
// the hard-reset boot delay. It returns once the reset has begun (the client
// is already dropped and Resets counts it), or at once on a board that has
// stopped.
func (b *Board) PressReset() {
	handled := make(chan struct{})
	select {
	case b.events <- evResetPressed{handled: handled}:
	case <-b.done:
		return
	}
	select {
	case <-handled:
	case <-b.done:
	}
}

// nodePID is the current board process's id (for measurements).
func (b *Board) nodePID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pid
}

// Done is closed when the board has stopped: after Close, or when it died
// on its own (see Err). A dead board neither runs nor listens.
func (b *Board) Done() <-chan struct{} { return b.done }

// Err tells why the board died on its own (its board process kept failing
// to boot, or could not be restarted); nil while it runs or when Close
// stopped it.
func (b *Board) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failure
}

// fail records why the board is dying; the event loop then ends.
func (b *Board) fail(err error) {
	b.mu.Lock()
	b.failure = err
	b.mu.Unlock()
	b.logf("sim: fatal: %v", err)
}

// Close stops the board: the client is dropped, the Node process group is
// killed and reaped, and a temporary flash folder is removed.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		<-b.done
		b.removeFlash()
	})
	return nil
}

func (b *Board) removeFlash() {
	if b.tmpFlash {
		if err := os.RemoveAll(b.flashDir); err != nil {
			b.logf("sim: removing the temporary flash folder: %v", err)
		}
	}
}

// trackConn remembers an open connection so that Close can end handshakes
// that are still waiting for their client.
func (b *Board) trackConn(c net.Conn, open bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if open {
		b.conns[c] = struct{}{}
	} else {
		delete(b.conns, c)
	}
}

func (b *Board) closeAllConns() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.Close()
	}
}
