package serialport_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"webrepl-kernel/serialport"
	"webrepl-kernel/serialport/serialtest"
)

func TestRawBytesBothWaysAndExclusive(t *testing.T) {
	if !serialtest.Supported() || !serialport.Supported() {
		t.Skip("no pseudo-terminals here")
	}
	master, slave, err := serialtest.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	p, err := serialport.Open(slave, 115200)
	if err != nil {
		t.Fatal(err)
	}
	// Every byte value, control bytes included, arrives unchanged: no
	// echo, no CR/LF translation, no Ctrl-C signal, no XON/XOFF.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := p.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(master, got); err != nil || !bytes.Equal(got, all) {
		t.Fatalf("port → other end: %v, %q", err, got)
	}
	if _, err := master.Write(all); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(p, got); err != nil || !bytes.Equal(got, all) {
		t.Fatalf("other end → port: %v, %q", err, got)
	}
	// A second opener is refused while the first holds the port.
	if _, err := serialport.Open(slave, 115200); !errors.Is(err, serialport.ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
	// Close ends a Read that waits.
	readErr := make(chan error, 1)
	go func() {
		_, err := p.Read(got)
		readErr <- err
	}()
	p.Close()
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("Read after Close returned no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end a waiting Read within 30 s")
	}
	// Closed, the port can be opened again.
	p2, err := serialport.Open(slave, 115200)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	p2.Close()
}

func TestOpenErrors(t *testing.T) {
	if !serialport.Supported() {
		t.Skip("no serial ports here")
	}
	_, err := serialport.Open("/dev/ttyUSB-none-such", 115200)
	if !errors.Is(err, serialport.ErrNotFound) || !bytes.Contains([]byte(err.Error()), []byte("does not exist")) {
		t.Fatalf("missing port: %v", err)
	}
	if _, err := serialport.Open("/dev/null", 115200); err == nil {
		t.Fatal("/dev/null opened as a serial port")
	}
	if _, err := serialport.Open("/dev/null", 12345); err == nil || !bytes.Contains([]byte(err.Error()), []byte("baud rate 12345")) {
		t.Fatalf("odd baud rate: %v", err)
	}
}
