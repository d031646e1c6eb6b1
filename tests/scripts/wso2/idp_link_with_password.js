// Sign-in with the corporate identity provider.  The first time, the user proves
// which local account is theirs with its password, and the two are linked: later
// sign-ins with the provider need nothing more.
var onLoginRequest = function (context) {
    executeStep(1, {authenticationOptions: [{idp: 'corp'}]}, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            Log.info('Signed in at ' + context.steps[1].idp + ' as ' + user.username);
            // Not linked yet, the step's user is the remote identity, named '<idp>:<subject>';
            // once linked, the provider's policy gives the local account.
            if (user.username.indexOf(context.steps[1].idp + ':') !== 0) {
                return;
            }
            executeStep(2, {
                authenticationOptions: [{authenticator: 'BasicAuthenticator'}],
                stepOptions: {markAsSubjectIdentifierStep: 'true'}
            }, {
                onSuccess: function (context) {
                    var local = context.steps[2].subject;
                    if (!doAssociationWithLocalUser(user, local.username, 'carbon.super', 'PRIMARY')) {
                        fail({errorCode: 'access_denied', errorMessage: 'could not link ' + local.username});
                    }
                }
            });
        },
        onFail: function (context) {
            fail({errorCode: 'access_denied', errorMessage: 'the corporate sign-in failed'});
        }
    });
};
