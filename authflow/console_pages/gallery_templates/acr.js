// Assurance levels asked by the application (acr_values): the first level this script supports decides
// the steps.  LOA1: password; LOA2: password and a one-time code; LOA3: password and a passkey.
var supportedLevels = ['LOA3', 'LOA2', 'LOA1'];

var onLoginRequest = function (context) {
    var level = selectAcrFrom(context, supportedLevels);
    Log.info('Requested ' + JSON.stringify(context.requestedAcr) + ', running ' + (level || 'the default'));
    switch (level) {
        case 'LOA3':
            executeStep(1);
            executeStep(3, {authenticationOptions: [{authenticator: 'FIDOAuthenticator'}]});
            break;
        case 'LOA2':
            executeStep(1);
            executeStep(2);
            break;
        default:
            executeStep(1);
    }
};
