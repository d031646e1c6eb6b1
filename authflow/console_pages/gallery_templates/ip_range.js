// Step-up by network: sign-ins from the office networks need a password only; from anywhere else the
// user also passes a second factor.  Ranges in CIDR notation (IPv4).
var officeNetworks = ['192.0.2.0/24', '198.51.100.128/25'];

var toNumber = function (address) {
    var parts = String(address).split('.');
    if (parts.length !== 4) {
        return null;
    }
    var value = 0;
    for (var i = 0; i < 4; i++) {
        var octet = parseInt(parts[i], 10);
        if (isNaN(octet) || octet < 0 || octet > 255) {
            return null;
        }
        value = value * 256 + octet;
    }
    return value;
};

var inRange = function (address, cidr) {
    var pieces = cidr.split('/');
    var bits = parseInt(pieces[1], 10);
    var size = Math.pow(2, 32 - bits);
    var start = Math.floor(toNumber(pieces[0]) / size) * size;
    var value = toNumber(address);
    return value !== null && value >= start && value < start + size;
};

var fromOffice = function (address) {
    for (var i = 0; i < officeNetworks.length; i++) {
        if (inRange(address, officeNetworks[i])) {
            return true;
        }
    }
    return false;
};

var onLoginRequest = function (context) {
    var address = context.request.ip;
    executeStep(1, {
        onSuccess: function (context) {
            if (!fromOffice(address)) {
                Log.info('Sign-in from ' + address + ', outside the office networks: second factor.');
                executeStep(2);
            }
        }
    });
};
