# The board's network module. Without a simulated network (_board.wifi is '') the WLAN is
# always in range of a friendly access point that takes any key; with one (sim --wifi
# SSID:KEY) only that network joins, with that key, and the station gets the address the
# host chose (127.0.0.1: the host reaches the board's WebREPL on loopback). A wrong key gives
# STAT_WRONG_PASSWORD, another name STAT_NO_AP_FOUND, as the ESP32 port's status() reports.

import json as _json
import _board

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_BEACON_TIMEOUT = 200
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4
MODE_11B = 1
MODE_11G = 2
MODE_11N = 4

_state = {
    STA_IF: {'active': False, 'connected': False, 'ssid': '', 'mac': b'\x24\x0a\xc4\x5e\x1a\x7c',
             'ifconfig': ('192.168.1.42', '255.255.255.0', '192.168.1.1', '192.168.1.1'),
             'channel': 1, 'hostname': 'esp32', 'security': AUTH_WPA_WPA2_PSK, 'key': ''},
    AP_IF: {'active': False, 'connected': False, 'ssid': 'ESP_5E1A7D', 'mac': b'\x24\x0a\xc4\x5e\x1a\x7d',
            'ifconfig': ('192.168.4.1', '255.255.255.0', '192.168.4.1', '0.0.0.0'),
            'channel': 1, 'hostname': 'esp32', 'security': AUTH_OPEN, 'key': ''},
}
_hostname = ['esp32']
_network = _json.loads(_board.wifi) if _board.wifi else None  # [ssid, key, address] or None
_failed = [None]  # why the last connect() failed, or None

class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    def __init__(self, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError('invalid WLAN interface identifier')
        self._if = interface_id
        self._s = _state[interface_id]

    def active(self, is_active=None):
        if is_active is None:
            return self._s['active']
        self._s['active'] = bool(is_active)
        if not is_active:
            self._s['connected'] = False
        return None

    def connect(self, ssid=None, key=None, *, bssid=None):
        if self._if != STA_IF:
            raise OSError('AP does not support connect')
        if not self._s['active']:
            raise OSError('Wifi Not Started')
        self._s['ssid'] = ssid or ''
        self._s['connected'] = False
        _failed[0] = None
        if _network is None:
            self._s['connected'] = True
        elif ssid != _network[0]:
            _failed[0] = STAT_NO_AP_FOUND
        elif (key or '') != _network[1]:
            _failed[0] = STAT_WRONG_PASSWORD
        else:
            self._s['ifconfig'] = (_network[2], '255.0.0.0', _network[2], _network[2])
            self._s['connected'] = True

    def disconnect(self):
        self._s['connected'] = False
        _failed[0] = None

    def isconnected(self):
        if self._if == AP_IF:
            return False
        return self._s['active'] and self._s['connected']

    def status(self, param=None):
        if param == 'rssi':
            return -58
        if param == 'stations':
            return []
        if param is not None:
            raise ValueError('unknown status param')
        if self._if == STA_IF and self.isconnected():
            return STAT_GOT_IP
        if self._if == STA_IF and self._s['active'] and _failed[0] is not None:
            return _failed[0]
        return STAT_IDLE

    def scan(self):
        if not self._s['active']:
            raise OSError('Wifi Not Started')
        if _network is not None:
            return [(_network[0].encode(), b'\x02\x00\x00\x00\x00\x01', 6, -58, AUTH_WPA2_PSK, False)]
        return [(b'SimulatedWiFi', b'\x02\x00\x00\x00\x00\x01', 6, -58, AUTH_WPA2_PSK, False),
                (b'Neighbours', b'\x02\x00\x00\x00\x00\x02', 11, -81, AUTH_WPA_WPA2_PSK, False)]

    def ifconfig(self, config=None):
        if config is None:
            if self._if == STA_IF and not self.isconnected():
                return ('0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0')
            return self._s['ifconfig']
        if config == 'dhcp':
            return None
        if len(config) != 4:
            raise ValueError('expected a 4-tuple')
        self._s['ifconfig'] = tuple(config)

    def ipconfig(self, *args, **kw):
        if kw:
            return None
        if args and args[0] == 'addr4':
            c = self.ifconfig()
            return (c[0], c[1])
        raise ValueError('unknown config param')

    def config(self, *args, **kw):
        if kw:
            for k in kw:
                if k in ('ssid', 'essid'):
                    self._s['ssid'] = kw[k]
                elif k in ('key', 'password'):
                    self._s['key'] = kw[k]
                elif k in ('channel', 'hostname', 'security', 'authmode'):
                    self._s['security' if k == 'authmode' else k] = kw[k]
                elif k in ('mac', 'reconnects', 'txpower', 'pm', 'max_clients', 'hidden', 'dhcp_hostname', 'protocol'):
                    pass
                else:
                    raise ValueError('unknown config param')
            return None
        if len(args) != 1:
            raise TypeError('can query only one param')
        p = args[0]
        if p in ('ssid', 'essid'):
            return self._s['ssid']
        if p == 'mac':
            return self._s['mac']
        if p in ('channel', 'hostname', 'security'):
            return self._s[p]
        if p == 'authmode':
            return self._s['security']
        if p == 'txpower':
            return 20
        if p == 'pm':
            return WLAN.PM_PERFORMANCE
        if p in ('dhcp_hostname',):
            return _hostname[0]
        raise ValueError('unknown config param')

    def __repr__(self):
        return '<WLAN>'

def hostname(name=None):
    if name is None:
        return _hostname[0]
    _hostname[0] = name

def country(code=None):
    if code is None:
        return 'XX'

def phy_mode(mode=None):
    if mode is None:
        return MODE_11N
